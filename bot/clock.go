package bot

import (
	"sync"
	"time"
)

// Clock tells the time. Everything time-based in Ringback reads it, so tests
// and the demo can move time without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// ManualClock is a clock that moves only when told to (tests, demo).
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	jumped chan struct{}
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock {
	return &ManualClock{now: t.UTC(), jumped: make(chan struct{}, 1)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and wakes whoever waits on Jumped.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	select {
	case c.jumped <- struct{}{}:
	default:
	}
	return now
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC()
	c.mu.Unlock()
	select {
	case c.jumped <- struct{}{}:
	default:
	}
}

// Jumped delivers a value after the clock was moved.
func (c *ManualClock) Jumped() <-chan struct{} { return c.jumped }

// jumps returns the channel a clock uses to say it moved; nil (never ready)
// for clocks that move by themselves.
func jumps(c Clock) <-chan struct{} {
	if j, ok := c.(interface{ Jumped() <-chan struct{} }); ok {
		return j.Jumped()
	}
	return nil
}

// OffsetClock runs with the wall clock but can be moved forward: the demo
// jumps ahead ten minutes or to Monday 08:00 to show reminders and the
// digest without waiting.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
	jumped chan struct{}
}

// NewOffsetClock returns a clock showing the wall-clock time.
func NewOffsetClock() *OffsetClock { return &OffsetClock{jumped: make(chan struct{}, 1)} }

// Now returns the wall-clock time plus every jump so far, in UTC.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

// Advance jumps forward by d.
func (c *OffsetClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.offset += max(d, 0)
	now := time.Now().Add(c.offset).UTC()
	c.mu.Unlock()
	select {
	case c.jumped <- struct{}{}:
	default:
	}
	return now
}

// Jumped delivers a value after the clock jumped.
func (c *OffsetClock) Jumped() <-chan struct{} { return c.jumped }
