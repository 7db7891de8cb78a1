package config

import (
	"maps"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ClosedDates are whole days a line is closed whatever its weekly hours
// (bank holidays, a branch's staff day), as civil dates "2006-01-02" read
// in the line's time zone.
type ClosedDates map[string]bool

// Has reports whether the civil date of t in loc is closed.
func (d ClosedDates) Has(t time.Time, loc *time.Location) bool {
	return d[t.In(loc).Format(time.DateOnly)]
}

// union is both sets, as a new map (the business's set is shared by every
// line and must not grow with one line's dates).
func (d ClosedDates) union(o ClosedDates) ClosedDates {
	if len(o) == 0 {
		return d
	}
	u := make(ClosedDates, len(d)+len(o))
	maps.Copy(u, d)
	maps.Copy(u, o)
	return u
}

// maxClosedRange bounds a "from..to" range, so a typo in a year cannot
// close a line for a decade.
const maxClosedRange = 62

// closedDates reads closed_dates: a list of "YYYY-MM-DD" or
// "YYYY-MM-DD..YYYY-MM-DD" (both ends included).
func (p *parser) closedDates(key string, n *yaml.Node) ClosedDates {
	out := ClosedDates{}
	for i, item := range p.seq(key, n) {
		k := index(key, i)
		s, ok := p.str(k, item)
		if !ok {
			continue
		}
		from, to, isRange := strings.Cut(strings.TrimSpace(s), "..")
		if !isRange {
			to = from
		}
		a, err1 := time.Parse(time.DateOnly, strings.TrimSpace(from))
		b, err2 := time.Parse(time.DateOnly, strings.TrimSpace(to))
		switch {
		case err1 != nil || err2 != nil:
			p.add(item, k, "%q is not a date (YYYY-MM-DD) or range (YYYY-MM-DD..YYYY-MM-DD)", s)
			continue
		case b.Before(a):
			p.add(item, k, "%q ends before it starts", s)
			continue
		case b.Sub(a) > maxClosedRange*24*time.Hour:
			p.add(item, k, "%q is longer than %d days", s, maxClosedRange)
			continue
		}
		for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
			out[d.Format(time.DateOnly)] = true
		}
	}
	return out
}

// ClosedOn reports whether t falls on one of the line's closed dates (its
// own and the business's), in the line's time zone.
func (l *Line) ClosedOn(t time.Time) bool {
	return l.ClosedDates.Has(t, l.Timezone)
}

// OpenDay reports whether the line opens at all on t's local day: not a
// closed date, and its weekly hours have a range that weekday.
func (l *Line) OpenDay(t time.Time) bool {
	return !l.ClosedOn(t) && l.Hours.OpensOn(t.In(l.Timezone).Weekday())
}

// OpensOn reports whether the schedule is open at some time on weekday d.
func (h Hours) OpensOn(d time.Weekday) bool {
	return !h.set || len(h.days[d]) > 0
}
