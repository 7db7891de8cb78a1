package config

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustHours(t *testing.T, days map[string]string) Hours {
	t.Helper()
	h, err := ParseHours(days)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// wall is a wall-clock time in loc, "2006-01-02 15:04:05".
func wall(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation(time.DateTime, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// utc is an instant, "2006-01-02 15:04:05" in UTC.
func utc(t *testing.T, s string) time.Time { return wall(t, time.UTC, s) }

func TestHoursOpen(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	newYork := mustLoc(t, "America/New_York")
	office := map[string]string{"mon-fri": "09:00-17:30", "sat": "10:00-14:00"}
	tests := []struct {
		name string
		days map[string]string
		loc  *time.Location
		at   time.Time
		open bool
	}{
		// 2026-11-17 is a Tuesday; London is on GMT (= UTC) in November.
		{"weekday morning", office, london, utc(t, "2026-11-17 10:00:00"), true},
		{"before opening", office, london, utc(t, "2026-11-17 08:59:59"), false},
		{"opening minute", office, london, utc(t, "2026-11-17 09:00:00"), true},
		{"last second", office, london, utc(t, "2026-11-17 17:29:59"), true},
		{"closing minute", office, london, utc(t, "2026-11-17 17:30:00"), false},
		{"saturday", office, london, utc(t, "2026-11-21 12:00:00"), true},
		{"saturday afternoon", office, london, utc(t, "2026-11-21 14:00:00"), false},
		{"sunday absent is closed", office, london, utc(t, "2026-11-22 12:00:00"), false},

		{"overnight friday", map[string]string{"fri": "22:00-06:00"}, london, utc(t, "2026-11-20 23:00:00"), true},
		{"overnight into saturday", map[string]string{"fri": "22:00-06:00"}, london, utc(t, "2026-11-21 05:59:00"), true},
		{"overnight ends", map[string]string{"fri": "22:00-06:00"}, london, utc(t, "2026-11-21 06:00:00"), false},
		{"overnight not thursday", map[string]string{"fri": "22:00-06:00"}, london, utc(t, "2026-11-20 05:00:00"), false},
		{"overnight on sunday wraps to monday", map[string]string{"sun": "22:00-06:00"}, london, utc(t, "2026-11-16 03:00:00"), true},

		{"wrapping day range", map[string]string{"fri-mon": "10:00-11:00"}, london, utc(t, "2026-11-22 10:30:00"), true},
		{"wrapping day range excludes tuesday", map[string]string{"fri-mon": "10:00-11:00"}, london, utc(t, "2026-11-17 10:30:00"), false},
		{"day list", map[string]string{"mon,wed": "24h"}, london, utc(t, "2026-11-18 03:00:00"), true},
		{"day list excludes tuesday", map[string]string{"mon,wed": "24h"}, london, utc(t, "2026-11-17 03:00:00"), false},
		{"full day names", map[string]string{"Tuesday": "00:00-24:00"}, london, utc(t, "2026-11-17 23:59:59"), true},
		{"lunch break", map[string]string{"mon-fri": "09:00-12:00, 13:00-17:30"}, london, utc(t, "2026-11-17 12:30:00"), false},
		{"after lunch", map[string]string{"mon-fri": "09:00-12:00, 13:00-17:30"}, london, utc(t, "2026-11-17 13:00:00"), true},
		{"closed day", map[string]string{"mon,wed-fri": "09:00-17:00", "tue": "closed"}, london, utc(t, "2026-11-17 10:00:00"), false},
		{"nil location is UTC", office, nil, utc(t, "2026-11-17 09:00:00"), true},

		// London springs forward on Sunday 2026-03-29 at 01:00 GMT to 02:00 BST.
		{"spring: friday before, GMT", office, london, utc(t, "2026-03-27 09:00:00"), true},
		{"spring: monday after, 09:00 BST is 08:00 UTC", office, london, utc(t, "2026-03-30 08:00:00"), true},
		{"spring: monday after, 08:59 BST", office, london, utc(t, "2026-03-30 07:59:00"), false},
		{"spring: range into the gap, before it", map[string]string{"sun": "00:30-01:30"}, london, utc(t, "2026-03-29 00:45:00"), true},
		{"spring: range into the gap, after it", map[string]string{"sun": "00:30-01:30"}, london, utc(t, "2026-03-29 01:00:00"), false},
		// London falls back on Sunday 2026-10-25 at 02:00 BST to 01:00 GMT:
		// 01:00-02:00 happens twice, and a range there is open both times.
		{"fall: first 01:30 (BST)", map[string]string{"sun": "01:30-01:45"}, london, utc(t, "2026-10-25 00:30:00"), true},
		{"fall: between the two", map[string]string{"sun": "01:30-01:45"}, london, utc(t, "2026-10-25 01:00:00"), false},
		{"fall: second 01:30 (GMT)", map[string]string{"sun": "01:30-01:45"}, london, utc(t, "2026-10-25 01:30:00"), true},

		// New York springs forward on 2026-03-08 at 02:00 EST to 03:00 EDT.
		{"NY spring: friday before, EST", office, newYork, utc(t, "2026-03-06 14:00:00"), true},
		{"NY spring: friday before, 08:59 EST", office, newYork, utc(t, "2026-03-06 13:59:00"), false},
		{"NY spring: monday after, EDT", office, newYork, utc(t, "2026-03-09 13:00:00"), true},
		{"NY spring: 01:59 EST", map[string]string{"sun": "02:00-04:00"}, newYork, utc(t, "2026-03-08 06:59:00"), false},
		{"NY spring: 03:00 EDT", map[string]string{"sun": "02:00-04:00"}, newYork, utc(t, "2026-03-08 07:00:00"), true},
		// New York falls back on 2026-11-01 at 02:00 EDT to 01:00 EST.
		{"NY fall: 01:20 EDT", map[string]string{"sun": "00:00-01:30"}, newYork, utc(t, "2026-11-01 05:20:00"), true},
		{"NY fall: 01:40 EDT", map[string]string{"sun": "00:00-01:30"}, newYork, utc(t, "2026-11-01 05:40:00"), false},
		{"NY fall: 01:00 EST again", map[string]string{"sun": "00:00-01:30"}, newYork, utc(t, "2026-11-01 06:00:00"), true},
		{"NY fall: 01:30 EST", map[string]string{"sun": "00:00-01:30"}, newYork, utc(t, "2026-11-01 06:30:00"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := mustHours(t, tt.days)
			if got := h.Open(tt.at, tt.loc); got != tt.open {
				t.Errorf("%v Open(%v) = %v, want %v", h, tt.at.In(locOrUTC(tt.loc)), got, tt.open)
			}
		})
	}
}

func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func TestHoursZeroValueIsAlwaysOpen(t *testing.T) {
	var h Hours
	at := utc(t, "2026-11-22 03:00:00")
	if !h.Open(at, nil) || !h.NextOpen(at, nil).Equal(at) || h.String() != "24/7" {
		t.Errorf("zero Hours: open %v, next %v, %q", h.Open(at, nil), h.NextOpen(at, nil), h.String())
	}
}

func TestHoursNextOpen(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	newYork := mustLoc(t, "America/New_York")
	office := map[string]string{"mon-fri": "09:00-17:30", "sat": "10:00-14:00"}
	tests := []struct {
		name string
		days map[string]string
		loc  *time.Location
		from time.Time
		want time.Time // zero: never open
	}{
		{"already open", office, london, utc(t, "2026-11-17 10:15:00"), utc(t, "2026-11-17 10:15:00")},
		{"before opening", office, london, utc(t, "2026-11-17 07:00:00"), utc(t, "2026-11-17 09:00:00")},
		{"friday evening to saturday", office, london, utc(t, "2026-11-20 17:30:00"), utc(t, "2026-11-21 10:00:00")},
		{"across the weekend", office, london, utc(t, "2026-11-21 14:00:00"), utc(t, "2026-11-23 09:00:00")},
		{"sunday to monday", office, london, utc(t, "2026-11-22 23:59:59"), utc(t, "2026-11-23 09:00:00")},
		{"across the weekend in New York", office, newYork, utc(t, "2026-11-21 20:00:00"), utc(t, "2026-11-23 14:00:00")},
		{"into an overnight range", map[string]string{"fri": "22:00-06:00"}, london, utc(t, "2026-11-17 12:00:00"), utc(t, "2026-11-20 22:00:00")},
		{"weekend across spring forward", office, london, utc(t, "2026-03-28 14:00:00"), utc(t, "2026-03-30 08:00:00")},
		{"range starting in the gap opens at the jump", map[string]string{"sun": "01:30-03:00"}, london, utc(t, "2026-03-29 00:00:00"), utc(t, "2026-03-29 01:00:00")},
		{"range cut by the gap", map[string]string{"sun": "00:30-01:30"}, london, utc(t, "2026-03-28 12:00:00"), utc(t, "2026-03-29 00:30:00")},
		{"repeated hour, second time", map[string]string{"sun": "01:30-01:45"}, london, utc(t, "2026-10-25 00:50:00"), utc(t, "2026-10-25 01:30:00")},
		{"NY gap", map[string]string{"sun": "02:00-04:00"}, newYork, utc(t, "2026-03-08 05:00:00"), utc(t, "2026-03-08 07:00:00")},
		{"never open", map[string]string{"mon-sun": "closed"}, london, utc(t, "2026-11-17 10:00:00"), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := mustHours(t, tt.days)
			got := h.NextOpen(tt.from, tt.loc)
			if !got.Equal(tt.want) {
				t.Errorf("%v NextOpen(%v) = %v, want %v", h, tt.from, got.In(tt.loc), tt.want.In(tt.loc))
			}
			if !tt.want.IsZero() && !h.Open(got, tt.loc) {
				t.Errorf("NextOpen returned %v, which is not open", got)
			}
		})
	}
}

func TestLineInHoursUsesLineTimezone(t *testing.T) {
	cfg, err := Parse([]byte(`
business: {name: Acme, region: GB, timezone: Europe/London}
lines:
  - {number: "+441632960001", name: London, channel: C1, hours: {mon-fri: "09:00-17:00"}}
  - {number: "+15551234567", name: NY, channel: C2, timezone: America/New_York, hours: {mon-fri: "09:00-17:00"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	london, _ := cfg.LineByName("london")
	ny, _ := cfg.LineByName("ny")
	tests := []struct {
		at             time.Time
		londonIn, nyIn bool
	}{
		{utc(t, "2026-11-17 10:00:00"), true, false}, // 05:00 in New York
		{utc(t, "2026-11-17 15:00:00"), true, true},  // 10:00 in New York
		{utc(t, "2026-11-17 21:30:00"), false, true}, // 16:30 in New York
	}
	for _, tt := range tests {
		if got := london.InHours(tt.at); got != tt.londonIn {
			t.Errorf("London InHours(%v) = %v", tt.at, got)
		}
		if got := ny.InHours(tt.at); got != tt.nyIn {
			t.Errorf("NY InHours(%v) = %v", tt.at, got)
		}
	}
}

func TestParseHoursProblems(t *testing.T) {
	tests := []struct {
		days map[string]string
		want string
	}{
		{map[string]string{"mon-fri": "9-5"}, `config: mon-fri: "9-5" is not HH:MM-HH:MM`},
		{map[string]string{"mon-fri": "09:00-17:00", "fri": "10:00-12:00"}, "config: mon-fri: fri listed twice"},
		{map[string]string{"mon,mon": "10:00-12:00"}, "config: mon,mon: mon listed twice"},
		{map[string]string{"someday": "10:00-12:00"}, `config: someday: "someday" is not a day (mon…sun), a range (mon-fri) or a list (mon,wed)`},
		{map[string]string{"mon": "24:00-10:00"}, `config: mon: "24:00-10:00" is not a time of day`},
		{map[string]string{"mon": "10:60-11:00"}, `config: mon: "10:60-11:00" is not a time of day`},
	}
	for _, tt := range tests {
		_, err := ParseHours(tt.days)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseHours(%v) error = %v, want %s", tt.days, err, tt.want)
		}
	}
}

func TestHoursString(t *testing.T) {
	tests := []struct {
		days map[string]string
		want string
	}{
		{map[string]string{"mon-fri": "9:00-17:30", "sat": "10:00 - 14:00"}, "mon-fri 09:00-17:30; sat 10:00-14:00"},
		{map[string]string{"mon": "24H"}, "mon 24h"},
		{map[string]string{"mon-sun": "closed"}, "closed"},
	}
	for _, tt := range tests {
		if got := mustHours(t, tt.days).String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
