package config

import (
	"strings"
	"testing"
	"time"
)

// slotWalls is slots as wall-clock times in loc, "Mon 02 15:04".
func slotWalls(slots []time.Time, loc *time.Location) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.In(loc).Format("Mon 02 15:04")
	}
	return out
}

func TestCallbackSlotsRespectHoursSplitShiftsAndClosedDates(t *testing.T) {
	loc := mustLoc(t, "Europe/London")
	l := Line{
		Timezone: loc,
		// Split shift on weekdays: nothing over lunch; Saturday short;
		// Sunday closed; Wednesday 2026-12-02 a closed date.
		Hours:       mustHours(t, map[string]string{"mon-fri": "09:00-12:00, 13:00-14:15", "sat": "10:00-11:00"}),
		ClosedDates: []string{"2026-12-02"},
		Callback:    Callback{Slot: time.Hour, Days: 3},
	}
	// Tuesday 2026-12-01 10:55: the 11:00 slot is too soon (remind 10m).
	got := slotWalls(l.CallbackSlots(wall(t, loc, "2026-12-01 10:55:00")), loc)
	want := []string{
		"Tue 01 13:00", // 12:00 is lunch; 14:00 would end after 14:15
		"Thu 03 09:00", "Thu 03 10:00", "Thu 03 11:00", "Thu 03 13:00",
		"Fri 04 09:00", "Fri 04 10:00", "Fri 04 11:00", "Fri 04 13:00",
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("slots\n got %v\nwant %v", got, want)
	}
	// Friday afternoon: Saturday counts as a working day, Sunday does not.
	got = slotWalls(l.CallbackSlots(wall(t, loc, "2026-12-04 13:30:00")), loc)
	want = []string{"Sat 05 10:00", "Mon 07 09:00", "Mon 07 10:00", "Mon 07 11:00", "Mon 07 13:00",
		"Tue 08 09:00", "Tue 08 10:00", "Tue 08 11:00", "Tue 08 13:00"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("slots from Friday\n got %v\nwant %v", got, want)
	}
}

func TestCallbackSlotsAcrossDST(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	// 2026-03-08: clocks go 02:00 → 03:00; a night line's 02:00 and 02:30
	// do not exist that day.
	l := Line{Timezone: ny, Hours: mustHours(t, map[string]string{"sun": "01:00-04:00"}), Callback: Callback{Slot: 30 * time.Minute, Days: 1}}
	slots := l.CallbackSlots(wall(t, ny, "2026-03-07 12:00:00"))
	if got, want := strings.Join(slotWalls(slots, ny), ","), "Sun 08 01:00,Sun 08 01:30,Sun 08 03:00,Sun 08 03:30"; got != want {
		t.Errorf("spring-forward slots %s, want %s", got, want)
	}
	// After the change a 09:00 slot is 09:00 local, not 09:00 of the old offset.
	l = Line{Timezone: ny, Hours: mustHours(t, map[string]string{"mon-fri": "09:00-10:00"}), Callback: Callback{Slot: time.Hour, Days: 1}}
	slots = l.CallbackSlots(wall(t, ny, "2026-03-06 12:00:00")) // Friday before the change
	if len(slots) != 1 || !slots[0].Equal(wall(t, ny, "2026-03-09 09:00:00")) || slots[0].UTC().Hour() != 13 {
		t.Errorf("Monday after spring-forward: %v", slots)
	}
	// 2026-11-01: 01:00–02:00 happens twice; each slot is offered once,
	// and a slot is still 30 minutes of wall time.
	l = Line{Timezone: ny, Hours: mustHours(t, map[string]string{"sun": "00:30-02:00"}), Callback: Callback{Slot: 30 * time.Minute, Days: 1}}
	slots = l.CallbackSlots(wall(t, ny, "2026-10-31 12:00:00"))
	if got, want := strings.Join(slotWalls(slots, ny), ","), "Sun 01 00:30,Sun 01 01:00,Sun 01 01:30"; got != want {
		t.Errorf("fall-back slots %s, want %s", got, want)
	}
	for i := 1; i < len(slots); i++ {
		if !slots[i].After(slots[i-1]) {
			t.Errorf("slots not in order: %v", slots)
		}
	}
}

func TestCallbackSlotsOfALineThatNeverOpens(t *testing.T) {
	l := Line{Hours: mustHours(t, map[string]string{}), Callback: Callback{Days: 3}}
	if s := l.CallbackSlots(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)); len(s) != 0 {
		t.Errorf("closed line offers %v", s)
	}
}

func TestParseCallback(t *testing.T) {
	base := "business: {name: B, region: GB}\nlines: [{number: \"+441632960001\", name: L, channel: C1%s}]\n"
	cfg, err := Parse([]byte(strings.Replace(base, "%s", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Callback{Slot: 30 * time.Minute, Days: 3, RemindBefore: 10 * time.Minute, Expires: 72 * time.Hour}); cfg.Lines[0].Callback != want {
		t.Errorf("default callback = %+v, want %+v", cfg.Lines[0].Callback, want)
	}
	cfg, err = Parse([]byte(strings.Replace(base, "%s", ", callback: {slot: 15m, capacity: 2, days: 5, remind_before: 5m, expires: 24h}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Callback{Slot: 15 * time.Minute, Capacity: 2, Days: 5, RemindBefore: 5 * time.Minute, Expires: 24 * time.Hour}); cfg.Lines[0].Callback != want {
		t.Errorf("callback = %+v, want %+v", cfg.Lines[0].Callback, want)
	}
	_, err = Parse([]byte(strings.Replace(base, "%s", ", callback: {slot: 90s, days: 40}", 1)))
	if err == nil || !strings.Contains(err.Error(), "callback.slot") || !strings.Contains(err.Error(), "callback.days") {
		t.Errorf("bad callback: %v", err)
	}
}
