package chat

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// BusiestHours lists the n busiest weekday hours, busiest first ("Mon
// 12:00–13:00: 7"); ties go to the earlier hour of the week, Monday first.
func BusiestHours(h [7][24]int, n int) []string {
	type slot struct{ day, hour, count int } // day: 0 = Monday
	var slots []slot
	for d := range 7 {
		for hr := range 24 {
			if c := h[(d+1)%7][hr]; c > 0 {
				slots = append(slots, slot{d, hr, c})
			}
		}
	}
	slices.SortStableFunc(slots, func(a, b slot) int { return cmp.Compare(b.count, a.count) })
	var out []string
	for _, sl := range slots[:min(n, len(slots))] {
		out = append(out, fmt.Sprintf("%s %02d:00–%02d:00: %d", time.Weekday((sl.day + 1) % 7).String()[:3], sl.hour, (sl.hour+1)%24, sl.count))
	}
	return out
}

// statsDuration reads "40 s", "4 min", "2 h 5 min", "3 d 4 h", rounded
// to the unit it shows.
func statsDuration(d time.Duration) string {
	if d < 0 {
		return "-" + statsDuration(-d)
	}
	if sec := int(d.Round(time.Second) / time.Second); sec < 60 {
		return fmt.Sprintf("%d s", sec)
	}
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60 && m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	case m < 24*60:
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	h := int(d.Round(time.Hour) / time.Hour)
	if h%24 == 0 {
		return fmt.Sprintf("%d d", h/24)
	}
	return fmt.Sprintf("%d d %d h", h/24, h%24)
}
