package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	// The IANA database is embedded so that hours and time zones behave the
	// same on a server image without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Hours is a line's weekly opening schedule in wall-clock time, read in the
// line's time zone. Schedules are kept as wall-clock times rather than
// instants so that "09:00" means nine o'clock on both sides of a DST change.
//
// The zero value is open around the clock ("24/7"), which is also what an
// absent hours: key means: a line nobody described is treated as staffed
// rather than silently sending every caller the after-hours text.
type Hours struct {
	set  bool      // false: 24/7
	days [7][]span // indexed by time.Weekday; sorted, non-overlapping
	desc string    // normalised source, for String
}

// span is [from, to) in minutes after local midnight; to may be 24*60.
type span struct{ from, to int }

const minutesPerDay = 24 * 60

// dayNames is in time.Weekday order.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var rangeRE = regexp.MustCompile(`^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$`)

// hoursEntry is one "days: ranges" pair in file order.
type hoursEntry struct{ days, ranges string }

// ParseHours builds a schedule from day keys to ranges, as in the YAML file:
// {"mon-fri": "09:00-17:30", "sat": "10:00-14:00"}. Days not named are
// closed. The error, if any, is Problems keyed by the day key.
func ParseHours(days map[string]string) (Hours, error) {
	keys := make([]string, 0, len(days))
	for k := range days {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	entries := make([]hoursEntry, len(keys))
	for i, k := range keys {
		entries[i] = hoursEntry{k, days[k]}
	}
	var probs Problems
	h := parseHours(entries, func(i int, msg string) {
		probs = append(probs, Problem{Key: keys[i], Message: msg})
	})
	if len(probs) > 0 {
		return Hours{}, probs
	}
	return h, nil
}

// parseHours reports each bad entry through bad, by index, and keeps going so
// that every mistake in a file is shown at once.
func parseHours(entries []hoursEntry, bad func(i int, msg string)) Hours {
	h := Hours{set: true}
	var listed [7]bool
	descs := make([]string, 0, len(entries))
	for i, e := range entries {
		days, ok := parseDays(e.days)
		if !ok {
			bad(i, fmt.Sprintf("%q is not a day (mon…sun), a range (mon-fri) or a list (mon,wed)", e.days))
			continue
		}
		var twice []string
		for _, d := range days {
			if listed[d] {
				twice = append(twice, dayNames[d])
			}
			listed[d] = true
		}
		if len(twice) > 0 {
			bad(i, strings.Join(twice, ", ")+" listed twice")
		}
		spans, desc, msg := parseRanges(e.ranges)
		if msg != "" {
			bad(i, msg)
			continue
		}
		descs = append(descs, strings.ToLower(strings.TrimSpace(e.days))+" "+desc)
		for _, d := range days {
			for _, s := range spans {
				if s.to > s.from {
					h.days[d] = append(h.days[d], s)
					continue
				}
				// A range that ends before it starts runs past midnight
				// into the next day.
				h.days[d] = append(h.days[d], span{s.from, minutesPerDay})
				if s.to > 0 {
					next := (d + 1) % 7
					h.days[next] = append(h.days[next], span{0, s.to})
				}
			}
		}
	}
	for d := range h.days {
		h.days[d] = mergeSpans(h.days[d])
	}
	h.desc = strings.Join(descs, "; ")
	return h
}

// parseDays reads "mon", "mon-fri", "fri-mon" (wrapping) or "mon,wed,sat-sun".
func parseDays(key string) ([]time.Weekday, bool) {
	var out []time.Weekday
	for part := range strings.SplitSeq(key, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok := parseDay(from)
		if !ok {
			return nil, false
		}
		b := a
		if isRange {
			if b, ok = parseDay(to); !ok {
				return nil, false
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == b {
				break
			}
		}
	}
	return out, true
}

func parseDay(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, name := range dayNames {
		if s == name || s == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// parseRanges reads "09:00-17:30", "09:00-12:00, 13:00-17:30", "closed" or
// "24h". It returns the spans as written (to < from means past midnight),
// a normalised description, and a problem message or "".
func parseRanges(v string) ([]span, string, string) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "closed":
		return nil, "closed", ""
	case "24h":
		return []span{{0, minutesPerDay}}, "24h", ""
	}
	var spans []span
	var descs []string
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		m := rangeRE.FindStringSubmatch(part)
		if m == nil {
			return nil, "", fmt.Sprintf("%q is not HH:MM-HH:MM", part)
		}
		from, okFrom := clock(m[1], m[2], false)
		to, okTo := clock(m[3], m[4], true)
		if !okFrom || !okTo {
			return nil, "", fmt.Sprintf("%q is not a time of day", part)
		}
		if from == to {
			return nil, "", fmt.Sprintf("%q is empty", part)
		}
		spans = append(spans, span{from, to})
		descs = append(descs, fmt.Sprintf("%02d:%02d-%02d:%02d", from/60, from%60, to/60, to%60))
	}
	return spans, strings.Join(descs, ", "), ""
}

// clock converts hours and minutes to minutes after midnight. "24:00" is
// allowed only as the end of a range, meaning the end of the day.
func clock(hh, mm string, end bool) (int, bool) {
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	if end && h == 24 && m == 0 {
		return minutesPerDay, true
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

func mergeSpans(spans []span) []span {
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	out := spans[:1]
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.from <= last.to {
			last.to = max(last.to, s.to)
			continue
		}
		out = append(out, s)
	}
	return out
}

// Open reports whether instant t falls in business hours, reading the
// schedule in loc (nil means UTC).
func (h Hours) Open(t time.Time, loc *time.Location) bool {
	if !h.set {
		return true
	}
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	for _, s := range h.days[lt.Weekday()] {
		if sec >= s.from*60 && sec < s.to*60 {
			return true
		}
	}
	return false
}

// NextOpen returns the first instant at or after t when the schedule is open
// in loc: t itself when already open, the zero Time when never open.
//
// The open state can only change where the wall clock reaches the start of a
// range or where it jumps at a zone transition, so those instants are the
// only candidates; the earliest open one at or after t is the answer.
func (h Hours) NextOpen(t time.Time, loc *time.Location) time.Time {
	if h.Open(t, loc) {
		return t
	}
	if loc == nil {
		loc = time.UTC
	}
	if !h.ever() {
		return time.Time{}
	}
	var best time.Time
	consider := func(c time.Time) {
		if !c.Before(t) && (best.IsZero() || c.Before(best)) && h.Open(c, loc) {
			best = c
		}
	}
	y, m, d := t.In(loc).Date()
	// A week and a day covers any weekly schedule; the longer second pass
	// only matters when a DST gap swallows every range in a week.
	for _, days := range [][2]int{{-1, 8}, {8, 22}} {
		for i := days[0]; i < days[1]; i++ {
			date := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC) // civil date only
			for _, s := range h.days[date.Weekday()] {
				c := time.Date(date.Year(), date.Month(), date.Day(), s.from/60, s.from%60, 0, 0, loc)
				consider(c)
				// A wall time repeated by a fall-back has a second instant
				// one zone offset away; time.Date picks only one of them.
				for _, alt := range otherZoneInstants(c) {
					consider(alt)
				}
			}
		}
		end := time.Date(y, m, d+days[1], 0, 0, 0, 0, loc)
		for x := t; x.Before(end); {
			_, next := x.In(loc).ZoneBounds()
			if next.IsZero() || !next.After(x) {
				break
			}
			consider(next)
			x = next
		}
		if !best.IsZero() {
			return best
		}
	}
	return best
}

// otherZoneInstants returns c shifted into the zones on either side of the
// one c is in: the instants that show the same wall clock under those zones'
// offsets.
func otherZoneInstants(c time.Time) []time.Time {
	start, end := c.ZoneBounds()
	_, off := c.Zone()
	var out []time.Time
	if !start.IsZero() {
		_, o := start.Add(-time.Second).Zone()
		out = append(out, c.Add(time.Duration(off-o)*time.Second))
	}
	if !end.IsZero() {
		_, o := end.Zone()
		out = append(out, c.Add(time.Duration(off-o)*time.Second))
	}
	return out
}

func (h Hours) ever() bool {
	if !h.set {
		return true
	}
	for _, d := range h.days {
		if len(d) > 0 {
			return true
		}
	}
	return false
}

// String describes the schedule as written, normalised:
// "mon-fri 09:00-17:30; sat 10:00-14:00", "24/7" or "closed".
func (h Hours) String() string {
	switch {
	case !h.set:
		return "24/7"
	case h.desc == "" || !h.ever():
		return "closed"
	}
	return h.desc
}

// InHours reports whether the line is in business hours at instant t: in
// its weekly hours and not on one of its closed dates.
func (l *Line) InHours(t time.Time) bool {
	return l.Hours.Open(t, l.Timezone) && !l.ClosedOn(t)
}

// dateLayout is how closed dates are written: 2026-12-25.
const dateLayout = "2006-01-02"

// closedDates reads a list of dates (YYYY-MM-DD) or ranges of dates
// ("2026-12-24..2026-12-26"), each date a day the line is closed whatever
// its hours say. The result is sorted and has no repeats.
func (p *parser) closedDates(key string, n *yaml.Node, into []string) []string {
	out := slices.Clone(into)
	for i, item := range p.seq(key, n) {
		k := index(key, i)
		s, ok := p.str(k, item)
		if !ok {
			continue
		}
		from, to, isRange := strings.Cut(s, "..")
		a, err1 := time.Parse(dateLayout, strings.TrimSpace(from))
		b := a
		var err2 error
		if isRange {
			b, err2 = time.Parse(dateLayout, strings.TrimSpace(to))
		}
		if err1 != nil || err2 != nil || b.Before(a) || b.Sub(a) > 366*24*time.Hour {
			p.add(item, k, "%q is not a date (2026-12-25) or a range of dates (2026-12-24..2026-12-26)", s)
			continue
		}
		for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
			out = append(out, d.Format(dateLayout))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ClosedOn reports whether instant t falls on one of the line's closed
// dates, read in its time zone.
func (l *Line) ClosedOn(t time.Time) bool {
	_, found := slices.BinarySearch(l.ClosedDates, t.In(l.zone()).Format(dateLayout))
	return found
}

func (l *Line) zone() *time.Location {
	if l.Timezone == nil {
		return time.UTC
	}
	return l.Timezone
}

// NextOpening is the first instant at or after t when the line is open:
// in its hours and not on a closed date. t itself when open; the zero Time
// when the line never opens.
func (l *Line) NextOpening(t time.Time) time.Time {
	// Each pass skips at least to the next local day; two years of closed
	// dates in a row is a configuration nobody means.
	for range 2 * 366 {
		t = l.Hours.NextOpen(t, l.zone())
		if t.IsZero() || !l.ClosedOn(t) {
			return t
		}
		y, m, d := t.In(l.zone()).Date()
		t = time.Date(y, m, d+1, 0, 0, 0, 0, l.zone())
	}
	return time.Time{}
}
