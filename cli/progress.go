package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// meter shows a long command's progress: one stage at a time, with its
// count, rate and time left. The zero of noMeter shows nothing.
type meter interface {
	stage(what string, total int)
	add(n int)
	finish()
}

type noMeter struct{}

func (noMeter) stage(string, int) {}
func (noMeter) add(int)           {}
func (noMeter) finish()           {}

// progressEvery is how many rows pass between updates of a bar: each
// update takes the bar's lock, and 200,000 of them would show.
const progressEvery = 500

// termMeter draws progressbar's bars on a terminal.
type termMeter struct {
	w       io.Writer
	bar     *progressbar.ProgressBar
	pending int
}

// progressMeter is a bar on w when w is a terminal, else nothing: a log
// file or a pipe gets the summary only.
func progressMeter(w io.Writer) meter {
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return noMeter{}
	}
	return &termMeter{w: w}
}

func (m *termMeter) stage(what string, total int) {
	m.finish()
	m.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(m.w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-8s", what)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(m.w) }),
	)
}

func (m *termMeter) add(n int) {
	if m.bar == nil {
		return
	}
	m.pending += n
	if m.pending >= progressEvery {
		_ = m.bar.Add(m.pending)
		m.pending = 0
	}
}

func (m *termMeter) finish() {
	if m.bar == nil {
		return
	}
	_ = m.bar.Add(m.pending)
	_ = m.bar.Finish()
	m.bar, m.pending = nil, 0
}
