package charts

import (
	"fmt"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"ringback/bot/chat"
)

// DigestHeight is the height in pixels of DigestPNG's image.
const DigestHeight = 1150

// DigestPNG draws the digest's picture, the one posted with it: a heading
// with the week's totals, the weekday × hour heatmap of missed calls and the
// daily bars of missed calls against cases reached.
func DigestPNG(d chat.Digest) ([]byte, error) {
	scope := chat.ScopeTotal
	if d.Line != "" {
		scope = d.Line
	}
	peak := d.PeakHours(scope)
	days := Days(d)
	return render(Width, DigestHeight, func(c draw.Canvas) {
		c = draw.Crop(c, px(36), -px(36), px(20), -px(28))

		title := style(14, true, ink)
		title.YAlign = draw.YTop
		c.FillText(title, vg.Point{X: c.Min.X, Y: c.Max.Y}, d.Title())
		y := c.Max.Y - title.Height(d.Title()) - px(10)
		sub := style(9, false, muted)
		sub.YAlign = draw.YTop
		c.FillText(sub, vg.Point{X: c.Min.X, Y: y}, summary(d))
		y -= sub.Height("M") + px(18)
		c.StrokeLine2(draw.LineStyle{Color: rule, Width: px(2)}, c.Min.X, y, c.Max.X, y)

		note := style(7.5, false, muted)
		note.YAlign = draw.YBottom
		c.FillText(note, vg.Point{X: c.Min.X, Y: c.Min.Y},
			fmt.Sprintf("Days in %s. Reached: cases whose first human contact (a template SMS or a logged callback) was made that day.", zoneName(d)))
		bottom := c.Min.Y + note.Height("M") + px(22)

		heatTop := y - px(26)
		split := heatTop - px(540)
		drawHeatmap(canvasBetween(c, split, heatTop), peak, "Missed calls by weekday and hour")
		drawBars(canvasBetween(c, bottom, split-px(36)), days, "Missed calls and cases reached, day by day")
	})
}

// canvasBetween is c cut to the band between y0 and y1.
func canvasBetween(c draw.Canvas, y0, y1 vg.Length) draw.Canvas {
	return draw.Crop(c, 0, 0, y0-c.Min.Y, y1-c.Max.Y)
}

// Days are the digest's days as the bar chart labels them ("Mon 9").
func Days(d chat.Digest) []Day {
	out := make([]Day, len(d.Daily))
	for i, day := range d.Daily {
		out[i] = Day{Label: day.Day.Format("Mon 2"), Missed: day.Missed, Reached: day.Reached}
	}
	return out
}

// summary is the heading's second line: the week's totals in words.
func summary(d chat.Digest) string {
	f := d.KPIs.Total
	var parts []string
	if f.MissRate != nil {
		parts = append(parts, fmt.Sprintf("%s missed calls of %s (%.0f%%)", thousands(f.Missed), thousands(f.Calls), f.MissRate.Percent()))
	} else {
		parts = append(parts, "no calls")
	}
	reached := 0
	for _, day := range d.Daily {
		reached += day.Reached
	}
	parts = append(parts, thousands(reached)+" reached", thousands(f.Backlog)+" open at the period's end")
	if d.Line == "" {
		parts = append(parts, "all lines")
	}
	return strings.Join(parts, "  ·  ")
}

func zoneName(d chat.Digest) string {
	if d.Zone == nil {
		return "UTC"
	}
	return d.Zone.String()
}

// thousands groups the digits: 19,261.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
