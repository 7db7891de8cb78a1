// Package procs runs the server's Go code on one processor while one is
// enough, and on the runtime's default number (the machine's or the
// container's CPUs) while the load needs more.
//
// Ringback mostly waits: on Twilio, Slack, Discord and the database. With
// several processors and little to do, each goroutine the network wakes
// also wakes an idle processor's thread, which looks for work, takes the
// goroutine or finds none, and sleeps again: two thread switches for every
// statement, request and answer, each a call to the host in a virtual
// machine. On a 2-core machine at 100 missed calls a second that was a
// quarter to a third of the server's CPU (PostgreSQL: 3.6 → 2.9 ms per
// call; SQLite, whose work is the server's: 6.0 → 4.3 ms); at 200 calls a
// second, busy enough to keep both processors working, the difference is
// small (2.35 → 2.21 ms).
package procs

import (
	"context"
	"log/slog"
	"runtime"
	"time"
)

// Governor sets the processors the server's Go code runs on
// (runtime.GOMAXPROCS): one until the process has used more than Up of it
// for Busy, then Max, and one again after it has used less than Down for
// Calm.
type Governor struct {
	Max   int           // processors when one is not enough: the runtime's default
	Every time.Duration // how often the process's CPU time is read
	Up    float64       // CPU used over an interval, in processors, over which, held for Busy, one is not enough
	Busy  time.Duration // a start's burst (connections opened, statements prepared) is shorter
	Down  float64       // under which, held for Calm, one is enough again
	Calm  time.Duration
	CPU   func() (time.Duration, bool) // the process's CPU time so far
	Set   func(procs int)              // sets the processors (Max: the runtime's default, kept up to date by it)
	Log   *slog.Logger
}

// New is the server's governor: nil when GOMAXPROCS is set in its
// environment (the operator's choice stands), when the runtime's default
// is one processor already, or when the process's CPU time cannot be read.
func New(getenv func(string) string, log *slog.Logger) *Governor {
	if getenv("GOMAXPROCS") != "" {
		return nil
	}
	max := runtime.GOMAXPROCS(0)
	if _, ok := processCPU(); !ok || max < 2 {
		return nil
	}
	return &Governor{
		Max: max, Every: time.Second,
		// Up: past 40 % of one processor (some 150 calls a second on
		// PostgreSQL), goroutines queue for it long enough to show in a
		// card's or an answer's tail. Down: under 20 % on Max (some 70
		// calls a second), well below Up: no flapping between.
		Up: 0.4, Busy: 3 * time.Second, Down: 0.2, Calm: 10 * time.Second,
		CPU: processCPU,
		Set: func(n int) {
			if n == max {
				runtime.SetDefaultGOMAXPROCS()
				return
			}
			runtime.GOMAXPROCS(n)
		},
		Log: log,
	}
}

// Run governs until ctx ends, starting at one processor, and leaves the
// runtime's default behind.
func (g *Governor) Run(ctx context.Context) {
	procs := 1
	g.Set(procs)
	defer g.Set(g.Max)
	tick := time.NewTicker(g.Every)
	defer tick.Stop()
	last, _ := g.CPU()
	lastAt := time.Now()
	var busy, calm time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		cpu, ok := g.CPU()
		if !ok {
			continue
		}
		used := float64(cpu-last) / float64(now.Sub(lastAt))
		last, lastAt = cpu, now
		busy, calm = lasting(busy, used > g.Up, g.Every), lasting(calm, used < g.Down, g.Every)
		if n := g.next(procs, busy, calm); n != procs {
			g.Log.Info("procs: processors for the server's Go code", "procs", n, "cpu_used", used)
			g.Set(n)
			procs, busy, calm = n, 0, 0
		}
	}
}

// lasting is how long a condition has held, after an interval of every
// in which it held or not.
func lasting(d time.Duration, holds bool, every time.Duration) time.Duration {
	if holds {
		return d + every
	}
	return 0
}

// next is the processors for the next interval, given those of the last
// and how long use has been over Up (busy) and under Down (calm).
func (g *Governor) next(procs int, busy, calm time.Duration) int {
	switch {
	case procs == 1 && busy >= g.Busy:
		return g.Max
	case procs > 1 && calm >= g.Calm:
		return 1
	}
	return procs
}
