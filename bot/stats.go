package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// statsUsage is shown with a week Ringback cannot read.
func statsUsage(why string) Text {
	return Text{Words(why + ". Usage: "), Command("stats [week]"),
		Words(": nothing for this week so far, "), Code("last"), Words(" for last week, or a week like "), Code("2026-W46"), Words(".")}
}

// StatsText answers `/callbacks stats [week]` in the digest's shape: the
// headline figures against their targets with the change on the week
// before, one line per line and the oldest open cases; then every KPI in
// total with its numerator and denominator, missed calls per line and the
// three busiest hours for missed calls. A week it cannot read is refused
// with the usage.
func (b *Bot) StatsText(ctx context.Context, spec string) (Text, error) {
	p, err := ISOWeek(spec, b.clock.Now(), b.kpiZone())
	if err != nil {
		usage := statsUsage(strings.TrimPrefix(err.Error(), "bot: "))
		return nil, &Refusal{Message: usage.String(), Rich: usage}
	}
	d, err := b.Digest(ctx, p, "")
	if err != nil {
		return nil, err
	}
	return append(statsHead(d), statsReport(d.KPIs)...), nil
}

// statsHead is the digest's first post as text: headlines, lines, oldest.
func statsHead(d Digest) Text {
	s := Text{Strong("Callback stats, " + d.Period.Label)}
	for _, h := range d.Headlines() {
		label := h.Label
		if m := h.Mark(); m != "" {
			label += " " + m
		}
		s = append(s, Words("\n"), Strong(label+":"), Words(" "+h.Line()))
	}
	s = append(s, Wordsf("\n✅ on target · ⚠️ off target · ▲ ▼ against %s", d.Previous.Period.Label))
	if lines := d.LineSummaries(); len(lines) > 0 {
		s = append(s, Words("\n"), Strong("By line"))
		for _, l := range lines {
			s = append(s, Words("\n• "), Strong(l.Name+":"), Words(" "+l.Text))
		}
	}
	if head := d.OldestHead(); len(head) > 0 {
		s = append(s, Words("\n"), Strong("Oldest open cases"))
		for _, it := range head {
			owner := "unclaimed"
			if it.Owner != "" {
				owner = "owned"
			}
			s = append(s, Wordsf("\n• %s · %s · open %s · %s · %s", it.Ref, it.Line, statsDuration(it.Age), owner, it.Caller))
		}
	}
	return append(s, Words("\n"), Strong("Every KPI"))
}

// statsReport lists the catalogue's KPIs that have a Name, in its order.
func statsReport(k KPIs) Text {
	t := k.Total
	var s Text
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
