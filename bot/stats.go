package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// statsUsage is shown with a week Ringback cannot read.
func statsUsage(why string) Text {
	return Text{Words(why + ". Usage: "), Command("stats [week]"),
		Words(": nothing for this week so far, "), Code("last"), Words(" for last week, or a week like "), Code("2026-W46"), Words(".")}
}

// StatsText answers `/callbacks stats [week]`: the period, every KPI in
// total with its numerator and denominator, missed calls per line and the
// three busiest hours for missed calls. A week it cannot read is refused
// with the usage.
func (b *Bot) StatsText(ctx context.Context, spec string) (Text, error) {
	p, err := ISOWeek(spec, b.clock.Now(), b.kpiZone())
	if err != nil {
		usage := statsUsage(strings.TrimPrefix(err.Error(), "bot: "))
		return nil, &Refusal{Message: usage.String(), Rich: usage}
	}
	k, err := b.KPIs(ctx, p)
	if err != nil {
		return nil, err
	}
	return statsReport(k), nil
}

// statsReport lists the catalogue's KPIs that have a Name, in its order.
func statsReport(k KPIs) Text {
	t := k.Total
	s := Text{Strong("Callback stats, " + k.Period.Label)}
	for _, kpi := range Catalogue {
		if kpi.Name == "" {
			continue
		}
		value := statsValue(kpi, t)
		switch kpi {
		case KPIMissedCalls:
			if r := KPIMissRate.Ratio(t); r != nil {
				value = fmt.Sprintf("%d of %d calls (miss rate %s)", t.Missed, t.Calls, statsPercent(r))
			}
			var per []string
			for _, l := range k.Lines {
				per = append(per, fmt.Sprintf("%s %d", l.Name, kpi.Count(l.Figures)))
			}
			if len(per) > 0 {
				value += ": " + strings.Join(per, ", ")
			}
		case KPIEscalated:
			if len(t.EscalationLevels) > 0 {
				levels := make([]int, 0, len(t.EscalationLevels))
				for l := range t.EscalationLevels {
					levels = append(levels, l)
				}
				slices.Sort(levels)
				parts := make([]string, len(levels))
				for i, l := range levels {
					parts[i] = fmt.Sprintf("level %d: %d", l, t.EscalationLevels[l])
				}
				value += "; " + strings.Join(parts, ", ")
			}
		case KPIBacklog:
			value = fmt.Sprintf("%d open at the period's end", kpi.Count(t))
			if o := KPIOldestOpen.Age(t); o != nil {
				value += ", oldest " + statsDuration(*o)
			}
		}
		s = append(s, Words("\n• "), Strong(kpi.Name+":"), Words(" "+value))
		if kpi == KPITimeToContact {
			for _, c := range t.TimeToContact {
				if c.Time != nil {
					s = append(s, Wordsf("\n    ◦ %s: %s", c.Label, statsSpread(c.Time)))
				}
			}
		}
	}
	return s
}

// statsValue is a KPI's value in words, by its kind.
func statsValue(k *KPI, f Figures) string {
	switch k.Kind {
	case KPICount:
		return fmt.Sprintf("%d", k.Count(f))
	case KPIRatio:
		return statsRatio(k.Ratio(f))
	case KPISpread:
		return statsSpread(k.Spread(f))
	case KPIAge:
		if a := k.Age(f); a != nil {
			return statsDuration(*a)
		}
	case KPIPeak:
		if peaks := statsPeakHours(k.Peak(f), 3); len(peaks) > 0 {
			return strings.Join(peaks, ", ")
		}
	}
	return "no data"
}

// peakHours lists the n busiest weekday hours, busiest first ("Mon
// 12:00–13:00: 7"); ties go to the earlier hour of the week, Monday first.
func statsPeakHours(h [7][24]int, n int) []string {
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

func statsRatio(r *Ratio) string {
	if r == nil {
		return "no data"
	}
	return r.String()
}

func statsPercent(r *Ratio) string { return fmt.Sprintf("%.0f%%", r.Percent()) }

func statsSpread(s *Spread) string {
	if s == nil {
		return "no data"
	}
	cases := "cases"
	if s.Count == 1 {
		cases = "case"
	}
	return fmt.Sprintf("median %s, p90 %s (%d %s)", statsDuration(s.Median), statsDuration(s.P90), s.Count, cases)
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
