package store

import (
	"context"
	"sync"
	"time"
)

// Foreground marks ctx as work that must not wait behind the rest: a
// request someone is waiting on (a webhook, its replay from the spool, a
// button press), and the outbox's heartbeats and marks, which settle work
// already done (late, a claim lapses and the work runs again). Its
// statements get a connection before background work's (claims, the rows'
// own statements, the leader's passes) that waits beside them. Twilio
// times a webhook out; a text or a card can wait a moment.
func Foreground(ctx context.Context) context.Context {
	return context.WithValue(ctx, foregroundKey{}, true)
}

type foregroundKey struct{}

func foreground(ctx context.Context) bool {
	v, _ := ctx.Value(foregroundKey{}).(bool)
	return v
}

// connGate hands the store's connections out (SQLite's one, PostgreSQL's
// pool): to a foreground waiter first, each class in arrival order.
// database/sql would pick a waiter at random, so under load a webhook
// queued behind the outbox's statements: on SQLite behind a dozen
// (measured at 237 calls a second: 11 waits a call, 2 ms each on average);
// on PostgreSQL a replica back from a crash to a backlog of chat rows timed
// webhooks out as they began (a chaos run). Background work is not starved:
// after bgEvery foreground turns in a row while it waits, it gets one.
type connGate struct {
	mu    sync.Mutex
	size  int // connections handed out at once
	inUse int
	fg    []chan struct{}
	bg    []chan struct{}
	ran   int // foreground turns given in a row while background waited
	// waits counts the turns that waited, and for how long, by class
	// (0 background, 1 foreground).
	waits [2]ConnWaits
}

func newConnGate(size int) *connGate { return &connGate{size: size} }

// ConnWaits is how often statements waited for a connection, and how long
// in all.
type ConnWaits struct {
	Count int64
	Total time.Duration
}

// ConnWaits reports the waits for a connection of foreground work (see
// Foreground) or of background work.
func (s *Store) ConnWaits(foreground bool) ConnWaits {
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	return s.gate.waits[waitClass(foreground)]
}

// waitClass indexes connGate.waits.
func waitClass(foreground bool) int {
	if foreground {
		return 1
	}
	return 0
}

// bgEvery bounds the foreground turns given in a row while background
// work waits.
const bgEvery = 8

// acquire waits for a connection's turn; it fails only when ctx ends.
func (g *connGate) acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.inUse < g.size {
		g.inUse++
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{}, 1)
	fg := foreground(ctx)
	start := time.Now()
	defer g.waited(fg, start)
	if fg {
		g.fg = append(g.fg, turn)
	} else {
		g.bg = append(g.bg, turn)
	}
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		waiting := g.withdraw(turn, fg)
		g.mu.Unlock()
		if !waiting {
			g.release() // handed over as ctx ended: pass it on
		}
		return ctx.Err()
	}
}

func (g *connGate) waited(fg bool, start time.Time) {
	g.mu.Lock()
	w := &g.waits[waitClass(fg)]
	w.Count++
	w.Total += time.Since(start)
	g.mu.Unlock()
}

// withdraw removes turn from its queue; false when it was already handed
// the connection.
func (g *connGate) withdraw(turn chan struct{}, fg bool) bool {
	q := &g.bg
	if fg {
		q = &g.fg
	}
	for i, t := range *q {
		if t == turn {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

// release ends a turn, handing its connection to the next waiter.
func (g *connGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var next chan struct{}
	switch {
	case len(g.fg) > 0 && (len(g.bg) == 0 || g.ran < bgEvery):
		next, g.fg = g.fg[0], g.fg[1:]
		if len(g.bg) > 0 {
			g.ran++
		}
	case len(g.bg) > 0:
		next, g.bg = g.bg[0], g.bg[1:]
		g.ran = 0
	default:
		g.inUse--
		return
	}
	next <- struct{}{}
}
