package bot_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// The recipient's window comes from their number: its time zone, and its
// US state's stricter law; the line's zone when the number says nothing.
func TestQuietHoursPolicy(t *testing.T) {
	ny, la, chicago := mustZone(t, "America/New_York"), mustZone(t, "America/Los_Angeles"), mustZone(t, "America/Chicago")
	london := mustZone(t, "Europe/London")
	usLine := &config.Line{Timezone: chicago}
	ukLine := &config.Line{Timezone: london}
	for _, tc := range []struct {
		name   string
		number string
		line   *config.Line
		now    time.Time
		want   time.Time // zero: allowed now
		zone   string
		window string
	}{
		{name: "Florida number at 20:30 waits for 08:00", number: "+13055550123", line: usLine,
			now: time.Date(2026, 11, 16, 20, 30, 0, 0, ny), want: time.Date(2026, 11, 17, 8, 0, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
		{name: "Florida number at 19:59 may go", number: "+13055550123", line: usLine,
			now: time.Date(2026, 11, 16, 19, 59, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
		{name: "California number at 20:30 may go", number: "+14155550123", line: usLine,
			now: time.Date(2026, 11, 16, 20, 30, 0, 0, la), zone: "America/Los_Angeles", window: "08:00–21:00"},
		{name: "California number at 21:00 waits", number: "+14155550123", line: usLine,
			now: time.Date(2026, 11, 16, 21, 0, 0, 0, la), want: time.Date(2026, 11, 17, 8, 0, 0, 0, la), zone: "America/Los_Angeles", window: "08:00–21:00"},
		{name: "Maryland number at 06:00 waits for 08:00 the same day", number: "+14105550123", line: ukLine,
			now: time.Date(2026, 11, 16, 6, 0, 0, 0, ny), want: time.Date(2026, 11, 16, 8, 0, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
		{name: "Oklahoma number in its own zone", number: "+14055550123", line: ukLine,
			now: time.Date(2026, 11, 16, 20, 15, 0, 0, chicago), want: time.Date(2026, 11, 17, 8, 0, 0, 0, chicago), zone: "America/Chicago", window: "08:00–20:00"},
		// US clocks go forward at 02:00 on Sunday 8 March 2026: 08:00 EDT
		// is 11½ hours of wall clock after 20:30 EST but only 10½ real ones.
		{name: "DST starts overnight", number: "+13055550123", line: usLine,
			now: time.Date(2026, 3, 7, 20, 30, 0, 0, ny), want: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), zone: "America/New_York", window: "08:00–20:00"},
		// UK clocks go back at 02:00 on Sunday 25 October 2026.
		{name: "DST ends overnight", number: "+447700900123", line: ukLine,
			now: time.Date(2026, 10, 24, 22, 0, 0, 0, london), want: time.Date(2026, 10, 25, 8, 0, 0, 0, time.UTC), zone: "Europe/London", window: "08:00–21:00"},
		// A toll-free number maps to forty zones: the line's is used.
		{name: "non-geographic number uses the line's zone", number: "+18005550123", line: usLine,
			now: time.Date(2026, 11, 16, 21, 30, 0, 0, chicago), want: time.Date(2026, 11, 17, 8, 0, 0, 0, chicago), zone: "America/Chicago", window: "08:00–21:00"},
		{name: "non-geographic number on a London line", number: "+18005550123", line: ukLine,
			now: time.Date(2026, 11, 16, 20, 30, 0, 0, london), zone: "Europe/London", window: "08:00–21:00"},
		{name: "withheld number uses the line's zone", number: "anonymous", line: ukLine,
			now: time.Date(2026, 11, 16, 7, 0, 0, 0, london), want: time.Date(2026, 11, 16, 8, 0, 0, 0, london), zone: "Europe/London", window: "08:00–21:00"},
		{name: "a line's own window", number: "+447700900123", line: &config.Line{Timezone: london, QuietHours: config.QuietHours{From: config.TimeOfDay{Hour: 9}, To: config.TimeOfDay{Hour: 18}}},
			now: time.Date(2026, 11, 16, 18, 0, 0, 0, london), want: time.Date(2026, 11, 17, 9, 0, 0, 0, london), zone: "Europe/London", window: "09:00–18:00"},
		{name: "quiet hours off", number: "+13055550123", line: &config.Line{Timezone: chicago, QuietHours: config.QuietHours{Off: true}},
			now: time.Date(2026, 11, 16, 23, 0, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := bot.QuietHoursAt(tc.number, tc.line, tc.now.UTC())
			want := tc.want
			if want.IsZero() {
				want = tc.now
			}
			if w.Allowed != tc.want.IsZero() || !w.At.Equal(want) {
				t.Errorf("allowed %v at %s, want allowed %v at %s", w.Allowed, w.At.In(w.Zone), tc.want.IsZero(), want.In(w.Zone))
			}
			if w.Zone.String() != tc.zone || w.Window() != tc.window {
				t.Errorf("zone %s window %s, want %s %s", w.Zone, w.Window(), tc.zone, tc.window)
			}
		})
	}
}

// Every area code of a stricter state (NANPA's list in testdata) gets that
// state's window.
func TestQuietHoursStateOfEveryAreaCode(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "quiet_states.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		state, code, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || strings.HasPrefix(state, "#") {
			continue
		}
		n++
		w := bot.QuietHoursAt("+1"+code+"2345678", &config.Line{Timezone: time.UTC}, time.Date(2026, 11, 16, 12, 0, 0, 0, time.UTC))
		if w.State != state || w.Window() != "08:00–20:00" {
			t.Errorf("area code %s: state %q window %s, want %s 08:00–20:00", code, w.State, w.Window(), state)
		}
	}
	if n < 30 {
		t.Fatalf("read %d area codes", n)
	}
}
