package procs

import (
	"context"
	"io"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNextRaisesWhenBusyAndLowersWhenCalm(t *testing.T) {
	g := &Governor{Max: 4, Busy: 3 * time.Second, Calm: 10 * time.Second}
	for _, c := range []struct {
		procs      int
		busy, calm time.Duration
		want       int
	}{
		{1, 0, time.Minute, 1},
		{1, 2 * time.Second, 0, 1}, // a start's burst
		{1, 3 * time.Second, 0, 4},
		{4, 0, 9 * time.Second, 4},
		{4, 0, 10 * time.Second, 1},
		{4, time.Minute, 0, 4},
		{4, 0, 0, 4},
	} {
		if got := g.next(c.procs, c.busy, c.calm); got != c.want {
			t.Errorf("at %d processors, busy %v, calm %v: %d, want %d", c.procs, c.busy, c.calm, got, c.want)
		}
	}
}

// Run starts at one processor, goes to Max while the process is busy, back
// to one once it has been quiet for Calm, and leaves Max when it stops.
func TestRunFollowsTheLoad(t *testing.T) {
	var load atomic.Uint64 // the busy share of a processor, as float64 bits
	setLoad := func(f float64) { load.Store(math.Float64bits(f)) }
	var mu sync.Mutex
	var cpu time.Duration
	last := time.Now()
	sets := make(chan int, 16)
	g := &Governor{Max: 4, Every: 10 * time.Millisecond, Up: 0.4, Busy: 30 * time.Millisecond, Down: 0.2, Calm: 50 * time.Millisecond,
		CPU: func() (time.Duration, bool) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			cpu += time.Duration(float64(now.Sub(last)) * math.Float64frombits(load.Load()))
			last = now
			return cpu, true
		},
		Set: func(n int) { sets <- n },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	next := func(want int, within time.Duration, what string) {
		t.Helper()
		select {
		case n := <-sets:
			if n != want {
				t.Fatalf("%s: set %d processors, want %d", what, n, want)
			}
		case <-time.After(within):
			t.Fatalf("%s: no change within %v", what, within)
		}
	}
	setLoad(0.1)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); g.Run(ctx) }()
	next(1, time.Second, "start")
	select {
	case n := <-sets:
		t.Fatalf("quiet: set %d processors, want one kept", n)
	case <-time.After(100 * time.Millisecond):
	}
	setLoad(0.9)
	start := time.Now()
	next(4, time.Second, "busy")
	// The interval the load rose in may count as busy already, and a tick
	// may come late.
	if d := time.Since(start); d < g.Busy-2*g.Every {
		t.Fatalf("raised after %v, want after Busy (%v)", d, g.Busy)
	}
	setLoad(0.3) // under Up, over Down: stays
	select {
	case n := <-sets:
		t.Fatalf("half busy: set %d processors, want 4 kept", n)
	case <-time.After(150 * time.Millisecond):
	}
	setLoad(0.05)
	start = time.Now()
	next(1, time.Second, "quiet again")
	// As for Busy.
	if d := time.Since(start); d < g.Calm-2*g.Every {
		t.Fatalf("back to one after %v, want after Calm (%v)", d, g.Calm)
	}
	cancel()
	<-stopped
	next(4, time.Second, "stopped")
}

// An operator's GOMAXPROCS stands: no governor.
func TestNewLeavesTheOperatorsGOMAXPROCS(t *testing.T) {
	if g := New(func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}, slog.Default()); g != nil {
		t.Fatalf("governor %+v with GOMAXPROCS set, want none", g)
	}
	g := New(func(string) string { return "" }, slog.Default())
	if max := runtime.GOMAXPROCS(0); (g == nil) != (max < 2) {
		t.Fatalf("governor %v at %d processors by default, want one when there are 2 or more", g, max)
	}
	if g != nil && g.Max != runtime.GOMAXPROCS(0) {
		t.Fatalf("Max %d, want the runtime's default %d", g.Max, runtime.GOMAXPROCS(0))
	}
}

// The process's CPU time counts work done by any of its threads. The work
// spins until 50 ms are counted, within 10 s: on a busy machine 100 ms of
// spinning may get half a processor (CI's tests run beside each other).
func TestProcessCPUCountsWork(t *testing.T) {
	before, ok := processCPU()
	if !ok {
		t.Fatal("the process's CPU time is unreadable")
	}
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		for end := time.Now().Add(10 * time.Millisecond); time.Now().Before(end); {
		}
		if after, _ := processCPU(); after-before >= 50*time.Millisecond {
			return
		}
	}
	after, _ := processCPU()
	t.Fatalf("10 s of spinning counted %v of CPU, want 50 ms or more", after-before)
}
