package bot

import (
	"context"
	"strings"
	"time"
)

// AwayCommand is `/callbacks away until WHEN`: the rota skips the person
// until then. WHEN is a date (2026-12-03), a weekday (fri), "tomorrow", each
// optionally followed by a time (13:00), read in the business's time zone;
// a date alone means its start: "away until fri" is back on Friday.
func (b *Bot) AwayCommand(ctx context.Context, a Actor, args string) (Text, error) {
	when, ok := strings.CutPrefix(strings.TrimSpace(args), "until ")
	if !ok {
		return usage("away until DATE [HH:MM]"), nil
	}
	now := b.clock.Now()
	loc := b.cfg.Business.Timezone
	until, ok := parseUntil(strings.TrimSpace(when), now.In(loc))
	if !ok {
		return nil, refuse("%q is not a date: try %s, %s or %s.", when, "2026-12-03", "fri", "tomorrow 13:00")
	}
	if !until.After(now) {
		return nil, refuse("%s has passed.", until.Format("Mon 2 Jan 15:04"))
	}
	if until.Sub(now) > maxAway {
		return nil, refuse("That is more than a year away.")
	}
	if err := b.store.SetAway(ctx, a.ID, until, now); err != nil {
		return nil, err
	}
	return Plainf("You're away until %s: the rota gives your new cases to others until then. %s when you're back earlier.",
		until.Format("Mon 2 Jan 15:04 MST"), "/callbacks back"), nil
}

// maxAway bounds an away: a longer one is a typo more likely than a
// sabbatical, and the rota would silently skip the person for good.
const maxAway = 366 * 24 * time.Hour

// BackCommand is `/callbacks back`: the rota includes the person again.
func (b *Bot) BackCommand(ctx context.Context, a Actor) (Text, error) {
	was, err := b.store.ClearAway(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if !was {
		return Plain("You were not marked away; the rota includes you."), nil
	}
	return Plain("Welcome back: the rota includes you again."), nil
}

// parseUntil reads WHEN (see AwayCommand) relative to now, in now's zone.
func parseUntil(s string, now time.Time) (time.Time, bool) {
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) == 0 || len(fields) > 2 {
		return time.Time{}, false
	}
	hour, minute := 0, 0
	if len(fields) == 2 {
		t, err := time.Parse("15:04", fields[1])
		if err != nil {
			return time.Time{}, false
		}
		hour, minute = t.Hour(), t.Minute()
	}
	y, m, d := now.Date()
	day := fields[0]
	switch {
	case day == "today":
	case day == "tomorrow":
		d++
	default:
		if t, err := time.Parse(time.DateOnly, day); err == nil {
			y, m, d = t.Date()
			break
		}
		wd, ok := weekdayNamed(day)
		if !ok {
			return time.Time{}, false
		}
		// The next such day: "fri" on a Friday is a week on.
		ahead := (int(wd) - int(now.Weekday()) + 7) % 7
		if ahead == 0 {
			ahead = 7
		}
		d += ahead
	}
	return time.Date(y, m, d, hour, minute, 0, 0, now.Location()), true
}

// weekdayNamed reads "fri", "friday".
func weekdayNamed(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}
