package config

import "time"

// OpenDay reports whether the line opens at all on t's local day: not a
// closed date, and its weekly hours have a range that weekday.
func (l *Line) OpenDay(t time.Time) bool {
	return !l.ClosedOn(t) && l.Hours.OpensOn(t.In(l.Timezone).Weekday())
}

// OpensOn reports whether the schedule is open at some time on weekday d.
func (h Hours) OpensOn(d time.Weekday) bool {
	return !h.set || len(h.days[d]) > 0
}
