package config

import (
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Callback sizes a line's callback picker (the {{callback_link}} page):
// `callback: {slot: 30m, capacity: 2, days: 3, remind_before: 10m, expires: 72h}`.
type Callback struct {
	// Slot is the length of one callback slot (default 30m).
	Slot time.Duration
	// Capacity is how many callers may pick one slot; 0 is no limit.
	Capacity int
	// Days is how many working days ahead slots are offered (default 3).
	Days int
	// RemindBefore is how long before a picked slot its owner, or the
	// channel, is reminded (default 10m); no slot starts sooner than that.
	RemindBefore time.Duration
	// Expires is how long a link works after the text that carried it
	// (default 72h).
	Expires time.Duration
}

// Defaults of the callback keys.
const (
	DefaultCallbackSlot    = 30 * time.Minute
	DefaultCallbackDays    = 3
	DefaultCallbackRemind  = 10 * time.Minute
	DefaultCallbackExpires = 72 * time.Hour
)

// SetDefaults gives the settings c leaves zero their defaults.
func (c *Callback) SetDefaults() {
	if c.Slot <= 0 {
		c.Slot = DefaultCallbackSlot
	}
	if c.Days <= 0 {
		c.Days = DefaultCallbackDays
	}
	if c.RemindBefore <= 0 {
		c.RemindBefore = DefaultCallbackRemind
	}
	if c.Expires <= 0 {
		c.Expires = DefaultCallbackExpires
	}
}

// callback reads a line's callback key over c.
func (p *parser) callback(key string, n *yaml.Node, c Callback) Callback {
	p.fields(key, n, map[string]func(string, *yaml.Node){
		"slot": func(k string, v *yaml.Node) {
			if d, ok := p.duration(k, v); ok {
				if d < 5*time.Minute || d > 4*time.Hour || d%time.Minute != 0 {
					p.add(v, k, "%s is not whole minutes from 5m to 4h", d)
					return
				}
				c.Slot = d
			}
		},
		"capacity": func(k string, v *yaml.Node) { c.Capacity = p.positive(k, v) },
		"days": func(k string, v *yaml.Node) {
			if d := p.positive(k, v); d > 14 {
				p.add(v, k, "%d is more than 14 days", d)
			} else if d > 0 {
				c.Days = d
			}
		},
		"remind_before": func(k string, v *yaml.Node) {
			if d, ok := p.duration(k, v); ok && d > 0 {
				c.RemindBefore = d
			}
		},
		"expires": func(k string, v *yaml.Node) {
			if d, ok := p.duration(k, v); ok && d > 0 {
				c.Expires = d
			}
		},
	})
	return c
}

// CallbackSlots are the starts of the callback slots line l offers at
// now: Callback.Slot long, wholly inside its hours (each range of a split
// shift on its own), none on a closed date, none starting sooner than
// Callback.RemindBefore, over the next Callback.Days days that have any.
//
// Slots are laid out in wall-clock time from each range's start and made
// instants with time.Date in the line's zone, so that "14:30" is half past
// two on both sides of a DST change; a wall time a spring-forward skips is
// no slot, and one a fall-back repeats is offered once.
func (l *Line) CallbackSlots(now time.Time) []time.Time {
	cb := l.Callback
	cb.SetDefaults()
	loc := l.zone()
	step := int(cb.Slot / time.Minute)
	earliest := now.Add(cb.RemindBefore)
	y, m, d := now.In(loc).Date()
	var out []time.Time
	days := 0
	// Two months of calendar days is far more than any working days asked
	// for; a line that never opens offers nothing rather than looping.
	for i := 0; i < 62 && days < cb.Days; i++ {
		date := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC) // civil date only
		if _, closed := slices.BinarySearch(l.ClosedDates, date.Format(dateLayout)); closed {
			continue
		}
		spans := []span{{0, minutesPerDay}}
		if l.Hours.set {
			spans = l.Hours.days[date.Weekday()]
		}
		n := len(out)
		for _, s := range spans {
			for from := s.from; from+step <= s.to; from += step {
				at := time.Date(date.Year(), date.Month(), date.Day(), from/60, from%60, 0, 0, loc)
				if lt := at.In(loc); lt.Hour()*60+lt.Minute() != from || lt.Day() != date.Day() {
					continue // skipped by a spring-forward
				}
				end := at.Add(cb.Slot)
				if at.Before(earliest) || !l.Hours.Open(end.Add(-time.Second), loc) {
					continue
				}
				if len(out) > 0 && !at.After(out[len(out)-1]) {
					continue
				}
				out = append(out, at)
			}
		}
		if len(out) > n {
			days++
		}
	}
	return out
}
