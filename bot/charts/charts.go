// Package charts draws the weekly digest's pictures as PNG: a weekday × hour
// heatmap of missed calls and a day-by-day bar chart of missed calls against
// cases reached. It uses gonum.org/v1/plot, which renders in pure Go with
// its own fonts, so the binary needs neither cgo nor fonts on the host.
package charts

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// dpi sets the pixel density: at 150 dpi a 10 pt label is 21 px high, so
// the text stays legible when Slack scales the 1200 px image down.
const dpi = 150

// Width is every chart's width in pixels.
const Width = 1200

// px is a length of n pixels at dpi.
func px(n float64) vg.Length { return vg.Length(n) * vg.Inch / dpi }

var (
	ink       = color.RGBA{0x1f, 0x29, 0x37, 0xff} // titles
	muted     = color.RGBA{0x6b, 0x72, 0x80, 0xff} // axes, notes
	rule      = color.RGBA{0xe5, 0xe7, 0xeb, 0xff} // grid lines
	emptyCell = color.RGBA{0xf3, 0xf4, 0xf6, 0xff}
	// MissedColor and ReachedColor are the two series of the bar chart.
	MissedColor  = color.RGBA{0xe3, 0x4a, 0x33, 0xff}
	ReachedColor = color.RGBA{0x2b, 0x8c, 0xbe, 0xff}
	// heat is ColorBrewer's OrRd without its palest step, which would not
	// stand out from an empty cell.
	heat = []color.RGBA{
		{0xfe, 0xe8, 0xc8, 0xff}, {0xfd, 0xd4, 0x9e, 0xff}, {0xfd, 0xbb, 0x84, 0xff}, {0xfc, 0x8d, 0x59, 0xff},
		{0xef, 0x65, 0x48, 0xff}, {0xd7, 0x30, 0x1f, 0xff}, {0xb3, 0x00, 0x00, 0xff}, {0x7f, 0x00, 0x00, 0xff},
	}
)

// sans is Liberation Sans, which gonum/plot embeds (its default is the serif).
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func style(size float64, bold bool, c color.Color) text.Style {
	f := sans
	if bold {
		f.Weight = xfont.WeightBold
	}
	return text.Style{Color: c, Font: font.From(f, vg.Points(size)), Handler: plot.DefaultTextHandler}
}

// Day is one group of the bar chart.
type Day struct {
	Label   string // "Mon 9"
	Missed  int
	Reached int
}

// Heatmap draws missed calls by weekday and hour; peak is indexed by
// [time.Weekday][hour], and the rows run Monday to Sunday.
func Heatmap(peak [7][24]int, title string) ([]byte, error) {
	return render(Width, 560, func(c draw.Canvas) {
		drawHeatmap(draw.Crop(c, px(24), -px(24), px(12), -px(16)), peak, title)
	})
}

// DailyBars draws missed calls against cases reached, day by day.
func DailyBars(days []Day, title string) ([]byte, error) {
	return render(Width, 480, func(c draw.Canvas) {
		drawBars(draw.Crop(c, px(24), -px(24), px(12), -px(16)), days, title)
	})
}

// render draws on a white canvas of w × h pixels and encodes it as PNG. A
// panic inside the plotting library becomes an error: a chart must never
// take the digest down with it.
func render(w, h float64, paint func(c draw.Canvas)) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("charts: drawing failed: %v", r)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(px(w), px(h)), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	paint(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("charts: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// panelTitle writes a panel's title at its top left and returns the canvas
// below it.
func panelTitle(c draw.Canvas, title string) draw.Canvas {
	st := style(11, true, ink)
	st.YAlign = draw.YTop
	c.FillText(st, vg.Point{X: c.Min.X, Y: c.Max.Y}, title)
	return draw.Crop(c, 0, 0, 0, -(st.Height(title) + px(14)))
}

// drawHeatmap draws the heatmap panel: title, a colour key, the grid.
func drawHeatmap(c draw.Canvas, peak [7][24]int, title string) {
	top := c.Max.Y
	body := panelTitle(c, title)
	most := 0
	for _, row := range peak {
		for _, v := range row {
			most = max(most, v)
		}
	}
	drawHeatKey(c, top, most)

	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, 23.5, -0.5, 6.5
	bareAxis(&p.X)
	bareAxis(&p.Y)
	var hours plot.ConstantTicks
	for h := range 24 {
		hours = append(hours, plot.Tick{Value: float64(h), Label: fmt.Sprintf("%02d", h)})
	}
	p.X.Tick.Marker = hours
	p.X.Label.Text = "Hour of the day (each line's local time)"
	p.X.Label.Padding = px(10)
	var days plot.ConstantTicks
	for i, name := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
		days = append(days, plot.Tick{Value: float64(6 - i), Label: name})
	}
	p.Y.Tick.Marker = days
	p.Add(heatCells{peak: peak, most: most})
	p.Draw(body)
}

// drawHeatKey draws "0 ■■■■■■■■ N" at the panel's top right: what the
// colours mean.
func drawHeatKey(c draw.Canvas, top vg.Length, most int) {
	st := style(8, false, muted)
	st.XAlign, st.YAlign = draw.XRight, draw.YCenter
	sw, gap := px(22), px(3)
	y := top - px(14)
	x := c.Max.X
	if most == 0 {
		c.FillText(st, vg.Point{X: x, Y: y}, "no missed calls")
		return
	}
	label := "most in one hour: " + strconv.Itoa(most)
	c.FillText(st, vg.Point{X: x, Y: y}, label)
	x -= st.Width(label) + px(10)
	for i := len(heat) - 1; i >= 0; i-- {
		fillRect(c, heat[i], x-sw, y-px(9), x, y+px(9))
		x -= sw + gap
	}
	fillRect(c, emptyCell, x-sw, y-px(9), x, y+px(9))
	x -= sw + px(8)
	c.FillText(st, vg.Point{X: x, Y: y}, "none")
}

// bareAxis hides an axis's line and tick marks: the cells and bars carry
// the structure, the labels stay.
func bareAxis(a *plot.Axis) {
	a.LineStyle.Color = color.Transparent
	a.Tick.LineStyle.Color = color.Transparent
	a.Tick.Length = 0
	a.Padding = px(4)
	setText(&a.Tick.Label, style(8, false, muted))
	setText(&a.Label.TextStyle, style(8, false, muted))
}

// setText gives st the font and colour of from, keeping the alignment the
// plot chose for it.
func setText(st *text.Style, from text.Style) {
	st.Font, st.Color = from.Font, from.Color
}

// heatCells is the heatmap itself: one square per weekday and hour, white
// gaps between, the count written in each non-empty square.
type heatCells struct {
	peak [7][24]int
	most int
}

func (h heatCells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	gap := px(1.5)
	for i := range 7 {
		wd := (i + 1) % 7 // row i is Monday + i
		y := float64(6 - i)
		for hr := range 24 {
			v := h.peak[wd][hr]
			x0, x1 := trX(float64(hr)-0.5)+gap, trX(float64(hr)+0.5)-gap
			y0, y1 := trY(y-0.5)+gap, trY(y+0.5)-gap
			fill := color.Color(emptyCell)
			if v > 0 {
				fill = heatColor(v, h.most)
			}
			fillRect(c, fill, x0, y0, x1, y1)
			if v == 0 {
				continue
			}
			st := style(7.5, false, ink)
			if lum(fill) < 0.55 {
				st.Color = color.White
			}
			st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
			c.FillText(st, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, strconv.Itoa(v))
		}
	}
}

func (heatCells) DataRange() (xmin, xmax, ymin, ymax float64) { return -0.5, 23.5, -0.5, 6.5 }

// heatColor picks the step of v in 1…most.
func heatColor(v, most int) color.Color {
	i := int(math.Ceil(float64(v)/float64(most)*float64(len(heat)))) - 1
	return heat[min(max(i, 0), len(heat)-1)]
}

// lum is a colour's relative luminance, 0 (black) to 1 (white).
func lum(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xffff
}

func fillRect(c draw.Canvas, col color.Color, x0, y0, x1, y1 vg.Length) {
	c.FillPolygon(col, []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}})
}

// drawBars draws the daily panel: title, key, missed and reached side by
// side per day with their values above them.
func drawBars(c draw.Canvas, days []Day, title string) {
	top := c.Max.Y
	body := panelTitle(c, title)
	drawBarKey(c, top)

	p := plot.New()
	bareAxis(&p.X)
	bareAxis(&p.Y)
	n := max(len(days), 1)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	var ticks plot.ConstantTicks
	most := 0
	missed, reached := make(plotter.Values, len(days)), make(plotter.Values, len(days))
	for i, d := range days {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: d.Label})
		missed[i], reached[i] = float64(d.Missed), float64(d.Reached)
		most = max(most, d.Missed, d.Reached)
	}
	p.X.Tick.Marker = ticks
	setText(&p.X.Tick.Label, style(8.5, false, ink))
	step := niceStep(most)
	// At least 0–5, so a quiet week does not look like a busy one.
	p.Y.Min, p.Y.Max = 0, float64(max(step*(most/step+1), 5))
	p.Y.Tick.Marker = intTicks(step)
	p.Y.Padding = 0
	p.X.Padding = 0

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = rule
	grid.Horizontal.Width = px(1.5)
	p.Add(grid)

	// The bar width follows the room each day has; the y labels take ~50 px.
	slot := (body.Max.X - body.Min.X - px(50)) / vg.Length(n)
	w := slot * 0.3
	if len(days) > 0 {
		for i, s := range []struct {
			v   plotter.Values
			col color.Color
			off vg.Length
		}{{missed, MissedColor, -w/2 - px(2)}, {reached, ReachedColor, w/2 + px(2)}} {
			bars, err := plotter.NewBarChart(s.v, w)
			if err != nil {
				panic(err) // only for a non-positive width
			}
			bars.Color, bars.LineStyle.Color, bars.Offset = s.col, color.Transparent, s.off
			p.Add(bars, barValues{values: s.v, offset: s.off, series: i})
		}
	}
	p.Draw(body)
}

// drawBarKey draws the two series' swatches at the panel's top right.
func drawBarKey(c draw.Canvas, top vg.Length) {
	st := style(8, false, muted)
	st.XAlign, st.YAlign = draw.XRight, draw.YCenter
	y := top - px(14)
	x := c.Max.X
	for _, k := range []struct {
		label string
		col   color.Color
	}{{"Reached (first human contact that day)", ReachedColor}, {"Missed calls", MissedColor}} {
		c.FillText(st, vg.Point{X: x, Y: y}, k.label)
		x -= st.Width(k.label) + px(8)
		fillRect(c, k.col, x-px(18), y-px(9), x, y+px(9))
		x -= px(18) + px(24)
	}
}

// barValues writes each bar's value above it.
type barValues struct {
	values plotter.Values
	offset vg.Length
	series int
}

func (b barValues) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	st := style(7.5, false, muted)
	st.XAlign, st.YAlign = draw.XCenter, draw.YBottom
	for i, v := range b.values {
		c.FillText(st, vg.Point{X: trX(float64(i)) + b.offset, Y: trY(v) + px(4)}, strconv.Itoa(int(v)))
	}
}

// niceStep is 1, 2 or 5 × 10ⁿ: the gap between y ticks that gives at most
// five of them above zero.
func niceStep(most int) int {
	for mag := 1; ; mag *= 10 {
		for _, m := range []int{1, 2, 5} {
			if s := m * mag; most/s < 5 {
				return s
			}
		}
	}
}

// intTicks labels whole multiples of step: counts have no halves.
func intTicks(step int) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		var ts []plot.Tick
		for v := 0; float64(v) <= hi; v += step {
			if float64(v) >= lo {
				ts = append(ts, plot.Tick{Value: float64(v), Label: strconv.Itoa(v)})
			}
		}
		return ts
	})
}
