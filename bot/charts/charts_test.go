package charts_test

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ringback/bot"
	"ringback/bot/charts"
)

// -png-dir keeps the rendered images for a person to look at.
var pngDir = flag.String("png-dir", "", "write the rendered PNGs to this directory")

func decode(t *testing.T, name string, raw []byte) image.Image {
	t.Helper()
	if *pngDir != "" {
		if err := os.WriteFile(filepath.Join(*pngDir, name+".png"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", name, err)
	}
	return img
}

// census counts the distinct colours and the pixels that are not white in r.
func census(img image.Image, r image.Rectangle) (colours, inked int) {
	seen := map[color.RGBA]bool{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			if c != (color.RGBA{255, 255, 255, 255}) {
				inked++
			}
		}
	}
	return len(seen), inked
}

// has reports whether some pixel is exactly c: a filled shape of that colour
// was drawn, not just an anti-aliased edge.
func has(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == c {
				return true
			}
		}
	}
	return false
}

func busyWeek() [7][24]int {
	var h [7][24]int
	for hr := 8; hr < 19; hr++ {
		for wd := time.Monday; wd <= time.Friday; wd++ {
			h[wd][hr] = (hr*7 + int(wd)*3) % 9
		}
	}
	h[time.Monday][9] = 14 // the Monday-morning rush
	h[time.Saturday][10] = 3
	h[time.Sunday][22] = 1
	return h
}

var (
	darkest  = color.RGBA{0x7f, 0x00, 0x00, 0xff}
	palest   = color.RGBA{0xfe, 0xe8, 0xc8, 0xff}
	noMisses = color.RGBA{0xf3, 0xf4, 0xf6, 0xff}
)

func TestHeatmapShowsTheBusiestHour(t *testing.T) {
	raw, err := charts.Heatmap(busyWeek(), "Missed calls by weekday and hour")
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, "heatmap", raw)
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 400 {
		t.Fatalf("image is %v: too small to read in Slack", b)
	}
	colours, inked := census(img, img.Bounds())
	if colours < 20 || inked < img.Bounds().Dx()*img.Bounds().Dy()/5 {
		t.Fatalf("the heatmap looks blank: %d colours, %d inked pixels", colours, inked)
	}
	if !has(img, darkest) {
		t.Error("the busiest hour is not drawn in the darkest colour")
	}
	if !has(img, noMisses) {
		t.Error("hours without missed calls are not drawn as empty cells")
	}
}

func TestDailyBarsDrawBothSeries(t *testing.T) {
	days := []charts.Day{{"Mon 9", 12, 9}, {"Tue 10", 8, 8}, {"Wed 11", 5, 6}, {"Thu 12", 7, 3}, {"Fri 13", 9, 7}, {"Sat 14", 2, 1}, {"Sun 15", 0, 0}}
	raw, err := charts.DailyBars(days, "Missed calls and cases reached, day by day")
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, "daily", raw)
	if img.Bounds().Dx() < 800 {
		t.Fatalf("image is %v", img.Bounds())
	}
	if !has(img, charts.MissedColor) || !has(img, charts.ReachedColor) {
		t.Fatal("the missed and reached bars are not both drawn")
	}
}

// A week without a single missed call still renders: an empty grid, bars
// of height zero, and no panic from an empty scale.
func TestChartsOfAnEmptyWeek(t *testing.T) {
	raw, err := charts.Heatmap([7][24]int{}, "Missed calls by weekday and hour")
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, "heatmap_empty", raw)
	if !has(img, noMisses) || has(img, palest) || has(img, darkest) {
		t.Error("an empty week should show only empty cells")
	}
	for _, days := range [][]charts.Day{nil, {{"Mon 9", 0, 0}, {"Tue 10", 0, 0}}} {
		raw, err = charts.DailyBars(days, "Missed calls and cases reached")
		if err != nil {
			t.Fatal(err)
		}
		decode(t, "daily_empty", raw)
	}
	raw, err = charts.DigestPNG(bot.Digest{Period: bot.Period{Label: "2026-W46"}})
	if err != nil {
		t.Fatal(err)
	}
	img = decode(t, "digest_empty", raw)
	if _, inked := census(img, img.Bounds()); inked == 0 {
		t.Fatal("the empty digest image is blank")
	}
}

func TestDigestPNGHasBothPanels(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	d := bot.Digest{
		Period: bot.Period{From: time.Date(2026, 11, 9, 0, 0, 0, 0, london), To: time.Date(2026, 11, 16, 0, 0, 0, 0, london),
			Label: "2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)"},
		Zone: london,
	}
	d.KPIs.Total.PeakHours = busyWeek()
	d.KPIs.Total.Calls, d.KPIs.Total.Missed = 412, 96
	d.KPIs.Total.MissRate = &bot.Ratio{Num: 96, Den: 412}
	d.KPIs.Total.Backlog = 7
	for i, v := range [][2]int{{21, 15}, {17, 16}, {14, 12}, {16, 11}, {19, 14}, {6, 4}, {3, 1}} {
		d.Daily = append(d.Daily, bot.DayCount{Day: d.From.AddDate(0, 0, i), Missed: v[0], Reached: v[1]})
	}
	raw, err := charts.DigestPNG(d)
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, "digest", raw)
	b := img.Bounds()
	if b.Dx() != charts.Width || b.Dy() != charts.DigestHeight {
		t.Fatalf("image is %v, want %dx%d", b, charts.Width, charts.DigestHeight)
	}
	// The heatmap sits in the upper half, the bars in the lower.
	upper := image.Rect(0, b.Dy()/6, b.Dx(), b.Dy()/2)
	lower := image.Rect(0, b.Dy()*3/5, b.Dx(), b.Dy()*9/10)
	for name, r := range map[string]image.Rectangle{"heatmap": upper, "bars": lower} {
		if colours, inked := census(img, r); colours < 10 || inked < r.Dx()*r.Dy()/20 {
			t.Errorf("the %s panel looks blank: %d colours, %d inked pixels", name, colours, inked)
		}
	}
	if !has(img, darkest) || !has(img, charts.MissedColor) || !has(img, charts.ReachedColor) {
		t.Error("the digest image lacks the heatmap's peak or one of the bar series")
	}
}
