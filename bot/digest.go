package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"ringback/bot/chat"
	"ringback/store"
)

// This file builds the weekly digest managers read: every KPI of DESIGN.md
// in total and per line with its change against the week before, a table
// per member of staff, the oldest open cases and the week day by day. Chat
// adapters render it (bot/slack), the charts package draws it, and
// `ringback digest` prints it as text, JSON or CSV.
//
// The staff table follows the KPIs' rule: it counts the period's cases
// (opened in [From, To)) with what is known of them now, so its columns add
// up to the figures above it.

// digestOldest is how many open cases the digest lists.
const digestOldest = 5

// Digest builds the digest of period p. line, when not "", is a line's name
// and narrows everything to it.
func (b *Bot) Digest(ctx context.Context, p Period, line string) (Digest, error) {
	loc := b.kpiZone()
	d := Digest{Period: p, Zone: loc, Targets: chat.Targets(b.cfg.Digest.Targets)}
	number := ""
	if line != "" {
		l, ok := b.cfg.LineByName(line)
		if !ok {
			names := make([]string, len(b.cfg.Lines))
			for i, l := range b.cfg.Lines {
				names[i] = l.Name
			}
			return Digest{}, fmt.Errorf("bot: no line called %q; lines: %s", line, strings.Join(names, ", "))
		}
		number, d.Line = l.Number, l.Name
	}
	var err error
	if d.KPIs, err = b.KPIs(ctx, p); err != nil {
		return Digest{}, fmt.Errorf("bot: digest: %w", err)
	}
	if d.Previous, err = b.KPIs(ctx, previousWeek(p, loc)); err != nil {
		return Digest{}, fmt.Errorf("bot: digest, previous week: %w", err)
	}
	if number != "" {
		d.KPIs, d.Previous = onlyLine(d.KPIs, number), onlyLine(d.Previous, number)
	}
	data, err := b.store.DigestData(ctx, p.From, p.To, number, digestOldest)
	if err != nil {
		return Digest{}, fmt.Errorf("bot: digest: %w", err)
	}
	d.Staff = digestStaff(data)
	for _, r := range data.Oldest {
		d.Oldest = append(d.Oldest, b.queueItem(r, p.To))
	}
	d.Daily = digestDays(p, loc, data.MissedAt, data.ContactedAt)
	return d, nil
}

// previousWeek is p moved back seven calendar days in loc, so that a week
// across a DST change still starts at midnight.
func previousWeek(p Period, loc *time.Location) Period {
	from, to := p.From.In(loc).AddDate(0, 0, -7), p.To.In(loc).AddDate(0, 0, -7)
	label := from.Format("Mon 2 Jan 15:04") + " – " + to.Format("Mon 2 Jan 15:04")
	if y, w := from.ISOWeek(); from.Equal(isoMonday(from)) && to.Equal(from.AddDate(0, 0, 7)) {
		label = fmt.Sprintf("%d-W%02d (%s – %s)", y, w, from.Format("Mon 2 Jan"), to.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"))
	}
	return Period{From: from, To: to, Label: label}
}

// onlyLine makes one line's figures the whole of k.
func onlyLine(k KPIs, number string) KPIs {
	for _, l := range k.Lines {
		if l.Number == number {
			return KPIs{Period: k.Period, Total: l.Figures, Lines: []LineKPIs{l}}
		}
	}
	return KPIs{Period: k.Period}
}

func digestStaff(data store.DigestData) []StaffRow {
	rows := map[string]*StaffRow{}
	get := func(id string) *StaffRow {
		r := rows[id]
		if r == nil {
			r = &StaffRow{User: id, Outcomes: map[string]int{}}
			rows[id] = r
		}
		return r
	}
	for _, c := range data.Claims {
		get(c.Actor).Claims = c.Cases
	}
	contact := map[string][]time.Duration{}
	for _, c := range data.Cases {
		if c.Owner != "" && c.FirstContactAt != nil {
			contact[c.Owner] = append(contact[c.Owner], c.FirstContactAt.Sub(c.CreatedAt))
		}
		if c.Closed && c.ClosedBy != "" {
			r := get(c.ClosedBy)
			r.Closed++
			r.Outcomes[c.Outcome]++
		}
	}
	for id, ds := range contact {
		r := get(id)
		r.Contacted = len(ds)
		med := kpiSpread(ds).Median
		r.FirstContact = &med
	}
	out := make([]StaffRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(x, y StaffRow) int {
		return cmp.Or(cmp.Compare(y.Claims, x.Claims), cmp.Compare(y.Closed, x.Closed), cmp.Compare(x.User, y.User))
	})
	return out
}

// digestDays counts missed calls and first contacts by day in loc.
func digestDays(p Period, loc *time.Location, missed, contacted []time.Time) []DayCount {
	var days []DayCount
	index := map[string]int{}
	from := p.From.In(loc)
	for day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc); day.Before(p.To); day = day.AddDate(0, 0, 1) {
		index[day.Format(time.DateOnly)] = len(days)
		days = append(days, DayCount{Day: day})
	}
	for _, t := range missed {
		if i, ok := index[t.In(loc).Format(time.DateOnly)]; ok {
			days[i].Missed++
		}
	}
	for _, t := range contacted {
		if i, ok := index[t.In(loc).Format(time.DateOnly)]; ok {
			days[i].Reached++
		}
	}
	return days
}
