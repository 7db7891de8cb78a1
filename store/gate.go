package store

import (
	"context"
	"sync"
	"time"
)

// ConnClass is who waits for a connection; a higher class is handed one
// first (connGate).
type ConnClass int

const (
	// ConnBackground is the rest: the outbox's claims and rows of the chat
	// and other lanes, the leader's passes.
	ConnBackground ConnClass = iota
	// ConnTexts is a caller's text (Texts): the text lane's claims and
	// rows, after the webhooks but before the chat backlog.
	ConnTexts
	// ConnForeground is work that must not wait behind the rest
	// (Foreground).
	ConnForeground
	connClasses = iota
)

func (c ConnClass) String() string {
	switch c {
	case ConnForeground:
		return "foreground"
	case ConnTexts:
		return "texts"
	}
	return "background"
}

// Foreground marks ctx as work that must not wait behind the rest: a
// request someone is waiting on (a webhook, its replay from the spool, a
// button press), the outbox's heartbeats and marks, which settle work
// already done (late, a claim lapses and the work runs again), and the
// leader's lease (late, no replica leads). Its
// statements get a connection before the other classes' that wait beside
// them. Twilio times a webhook out; a text or a card can wait a moment.
func Foreground(ctx context.Context) context.Context {
	return withClass(ctx, ConnForeground)
}

// Texts marks ctx as a caller's text (the text lane's claims and rows):
// its statements get a connection after foreground work's and before the
// rest's. A caller waits for their text-back; a card behind it is seen by
// staff a moment later. After an outage the chat lanes' backlog is
// hundreds of statements; behind it a text waited seconds for a connection.
func Texts(ctx context.Context) context.Context {
	return withClass(ctx, ConnTexts)
}

// withClass marks ctx as class c, unless it is of a higher one already
// (a text's heartbeat stays foreground).
func withClass(ctx context.Context, c ConnClass) context.Context {
	if ClassOf(ctx) >= c {
		return ctx
	}
	return context.WithValue(ctx, connClassKey{}, c)
}

type connClassKey struct{}

// ClassOf is the class ctx's statements wait for a connection in.
func ClassOf(ctx context.Context) ConnClass {
	c, _ := ctx.Value(connClassKey{}).(ConnClass)
	return c
}

// connGate hands the store's connections out (SQLite's one, PostgreSQL's
// pool): to a waiter of the highest class first, each class in arrival
// order. database/sql would pick a waiter at random, so under load a
// webhook queued behind the outbox's statements: on SQLite behind a dozen
// (measured at 237 calls a second: 11 waits a call, 2 ms each on average);
// on PostgreSQL a replica back from a crash to a backlog of chat rows timed
// webhooks out as they began (a chaos run). No class is starved: after
// lowerEvery turns in a row of a class while a lower one waits, a lower
// one gets a turn.
type connGate struct {
	mu    sync.Mutex
	size  int // connections handed out at once
	inUse int
	queue [connClasses][]chan struct{}
	// ran: turns given to a class in a row while a lower class waited.
	ran [connClasses]int
	// waits counts the turns that waited, and for how long, by class.
	waits [connClasses]ConnWaits
	// held is how long each class's turns held a connection.
	held [connClasses]time.Duration
}

func newConnGate(size int) *connGate { return &connGate{size: size} }

// ConnWaits is how often statements waited for a connection, and how long
// in all.
type ConnWaits struct {
	Count int64
	Total time.Duration
}

// ConnWaits reports the waits for a connection of class c's statements.
func (s *Store) ConnWaits(c ConnClass) ConnWaits {
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	return s.gate.waits[c]
}

// ConnHeld is how long statements of class c have held a connection, in
// all: what occupies the database (on SQLite, whose one connection a
// turn holds for the whole transaction, the time it is busy).
func (s *Store) ConnHeld(c ConnClass) time.Duration {
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	return s.gate.held[c]
}

// ConnWaiting is how many statements of class c wait for a connection
// now: how far behind the database a class has fallen.
func (s *Store) ConnWaiting(c ConnClass) int {
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	return len(s.gate.queue[c])
}

// lowerEvery bounds the turns given in a row to a class while a lower one
// waits.
const lowerEvery = 8

// acquire waits for a connection's turn; it fails only when ctx ends.
func (g *connGate) acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.inUse < g.size {
		g.inUse++
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{}, 1)
	c := ClassOf(ctx)
	start := time.Now()
	defer g.waited(c, start)
	g.queue[c] = append(g.queue[c], turn)
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		waiting := g.withdraw(turn, c)
		g.mu.Unlock()
		if !waiting {
			g.end(c, 0) // handed over as ctx ended: pass it on
		}
		return ctx.Err()
	}
}

func (g *connGate) waited(c ConnClass, start time.Time) {
	g.mu.Lock()
	w := &g.waits[c]
	w.Count++
	w.Total += time.Since(start)
	g.mu.Unlock()
}

// withdraw removes turn from class c's queue; false when it was already
// handed the connection.
func (g *connGate) withdraw(turn chan struct{}, c ConnClass) bool {
	q := &g.queue[c]
	for i, t := range *q {
		if t == turn {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

// end ends a turn of class that held its connection for held, handing
// the connection to the next waiter: of the highest class waiting that has
// not had lowerEvery turns in a row while a lower one waited.
func (g *connGate) end(class ConnClass, held time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held[class] += held
	for c := ConnClass(connClasses - 1); c >= 0; c-- {
		if len(g.queue[c]) == 0 {
			continue
		}
		lower := g.waitingBelow(c)
		if lower && g.ran[c] >= lowerEvery {
			continue
		}
		next := g.queue[c][0]
		g.queue[c] = g.queue[c][1:]
		if lower {
			g.ran[c]++
		}
		for above := c + 1; above < connClasses; above++ {
			g.ran[above] = 0 // their run ended with this turn
		}
		next <- struct{}{}
		return
	}
	g.inUse--
}

// waitingBelow reports whether a class lower than c waits.
func (g *connGate) waitingBelow(c ConnClass) bool {
	for below := range c {
		if len(g.queue[below]) > 0 {
			return true
		}
	}
	return false
}
