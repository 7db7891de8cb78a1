package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The timing keys: untriaged (global and per line), closed dates (business
// and line, single days and ranges), the after-hours policies.
func TestParseTimingKeys(t *testing.T) {
	c, err := Parse([]byte(`
business: {name: Acme, region: GB, timezone: Europe/London, closed_dates: ["2026-12-25", "2026-12-28..2026-12-29"]}
untriaged: {claim_within: 20m, contact_within: 1h}
manager_batch: 15m
categories:
  viewing: {claim_within: 5m, contact_within: 15m}
lines:
  - number: "+441632960001"
    name: Lettings
    channel: C0LETTINGS
    hours: {mon-fri: "09:00-12:00, 13:00-17:30"}
    closed_dates: ["2026-12-24", "2026-12-25"]
    untriaged: {claim_within: 3m, contact_within: 7m}
    escalate_after_hours: all
    on_call_pages: all
  - number: "+441632960002"
    name: Maintenance
    channel: C0MAINT
`))
	if err != nil {
		t.Fatal(err)
	}
	lettings, maint := &c.Lines[0], &c.Lines[1]
	if c.ManagerBatch != 15*time.Minute {
		t.Errorf("manager_batch = %s", c.ManagerBatch)
	}
	if want := []string{"2026-12-24", "2026-12-25", "2026-12-28", "2026-12-29"}; !slices.Equal(lettings.ClosedDates, want) {
		t.Errorf("lettings closed dates = %v, want %v", lettings.ClosedDates, want)
	}
	if want := []string{"2026-12-25", "2026-12-28", "2026-12-29"}; !slices.Equal(maint.ClosedDates, want) {
		t.Errorf("maintenance closed dates = %v, want %v", maint.ClosedDates, want)
	}
	if got := c.DueFor(lettings, ""); got != (Due{3 * time.Minute, 7 * time.Minute}) {
		t.Errorf("lettings untriaged = %+v", got)
	}
	if got := c.DueFor(maint, ""); got != (Due{20 * time.Minute, time.Hour}) {
		t.Errorf("maintenance untriaged = %+v", got)
	}
	if got := c.DueFor(maint, "viewing"); got != (Due{5 * time.Minute, 15 * time.Minute}) {
		t.Errorf("viewing = %+v", got)
	}
	if !lettings.Escalates(false) || !lettings.Pages(false) || maint.Escalates(false) || maint.Pages(false) || !maint.Escalates(true) || !maint.Pages(true) {
		t.Errorf("after-hours policies: lettings %q/%q, maintenance %q/%q", lettings.EscalateAfterHours, lettings.OnCallPages, maint.EscalateAfterHours, maint.OnCallPages)
	}
}

func TestUntriagedDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.DueFor(&c.Lines[0], ""); got != (Due{10 * time.Minute, 30 * time.Minute}) {
		t.Errorf("default untriaged = %+v", got)
	}
	built := (&Config{Lines: []Line{{Number: "+15551234567"}}}).Defaults()
	if c.ManagerBatch != 30*time.Minute || built.ManagerBatch != c.ManagerBatch {
		t.Errorf("manager_batch: parsed %s, built %s", c.ManagerBatch, built.ManagerBatch)
	}
	if built.Untriaged != c.Untriaged {
		t.Errorf("built in Go %+v, parsed %+v", built.Untriaged, c.Untriaged)
	}
}

func TestParseTimingKeysProblems(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad date", strings.Replace(minimal, "timezone: America/New_York}", "timezone: America/New_York, closed_dates: [2026-13-01]}", 1), `business.closed_dates[0]: "2026-13-01" is not a date`},
		{"backwards range", minimal + "    closed_dates: [2026-12-29..2026-12-24]\n", `lines[0].closed_dates[0]: "2026-12-29..2026-12-24" is not a date`},
		{"bad policy", minimal + "    escalate_after_hours: never\n", `lines[0].escalate_after_hours: "never" is not one of urgent, all`},
		{"bad pages", minimal + "    on_call_pages: some\n", `lines[0].on_call_pages: "some" is not one of urgent, all`},
		{"bad untriaged", minimal + "untriaged: {claim_within: soon}\n", `untriaged.claim_within:`},
		{"unknown untriaged key", minimal + "untriaged: {claim: 5m}\n", `untriaged.claim: unknown key`},
		{"batch too short", minimal + "manager_batch: 10s\n", `manager_batch: 10s is outside 1m to 24h`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// A line closed at weekends, on split shifts, with a Monday holiday: the
// next opening after Friday evening is Tuesday 09:00; after the morning
// shift, the afternoon one.
func TestNextOpeningSkipsClosedDatesAndSplitShifts(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	l := Line{Timezone: london, Hours: mustHours(t, map[string]string{"mon-fri": "09:00-12:00, 13:00-17:30"}), ClosedDates: []string{"2026-12-07"}}
	for _, tc := range []struct{ at, want string }{
		{"2026-12-04 18:00:00", "2026-12-08 09:00:00"}, // Friday evening -> Tuesday (Monday closed)
		{"2026-12-08 12:30:00", "2026-12-08 13:00:00"}, // lunch -> afternoon shift
		{"2026-12-08 10:00:00", "2026-12-08 10:00:00"}, // open: now
		{"2026-12-07 10:00:00", "2026-12-08 09:00:00"}, // the holiday itself
	} {
		if got := l.NextOpening(wall(t, london, tc.at)); !got.Equal(wall(t, london, tc.want)) {
			t.Errorf("NextOpening(%s) = %s, want %s", tc.at, got.In(london), tc.want)
		}
	}
	if l.InHours(wall(t, london, "2026-12-07 10:00:00")) {
		t.Error("in hours on a closed date")
	}
	if l.InHours(wall(t, london, "2026-12-08 12:15:00")) || !l.InHours(wall(t, london, "2026-12-08 13:15:00")) {
		t.Error("split shift: lunch open or afternoon closed")
	}
}

// Across the spring-forward change the opening stays 09:00 on the wall
// clock: an hour earlier in UTC than the week before.
func TestNextOpeningAcrossDST(t *testing.T) {
	london := mustLoc(t, "Europe/London")
	l := Line{Timezone: london, Hours: mustHours(t, map[string]string{"mon-fri": "09:00-17:30"})}
	// Clocks go forward on Sunday 2027-03-28.
	got := l.NextOpening(wall(t, london, "2027-03-26 18:00:00"))
	if want := time.Date(2027, 3, 29, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next opening = %s, want %s (09:00 BST)", got.UTC(), want)
	}
}
