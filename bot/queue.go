package bot

import (
	"context"
	"slices"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
)

// Queue lists open cases for /callbacks.
func (b *Bot) Queue(ctx context.Context, r QueueRequest) (QueueView, error) {
	if err := b.may(r.Actor, ActionQueue, nil); err != nil {
		return QueueView{}, err
	}
	now := b.clock.Now()
	f := store.QueueFilter{CardsOn: r.Platform, Limit: r.Limit}
	title := "Open callbacks"
	if r.Mine {
		f.Owner = r.Actor.ID
		title = "Your callbacks"
	}
	if r.Overdue {
		f.OverdueAt = now
		title = "Overdue callbacks"
	}
	if r.LineName != "" {
		line, ok := b.cfg.LineByName(r.LineName)
		if !ok {
			names := make([]string, len(b.cfg.Lines))
			for i, l := range b.cfg.Lines {
				names[i] = l.Name
			}
			return QueueView{}, refuse("No line called %q. Lines: %s.", r.LineName, strings.Join(names, ", "))
		}
		f.Line = line.Number
		title += " on " + line.Name
	}
	rows, total, err := b.store.OpenQueue(ctx, f)
	if err != nil {
		return QueueView{}, err
	}
	v := QueueView{Title: title, Total: total, Mine: r.Mine, Items: make([]QueueItem, 0, len(rows))}
	for _, r := range rows {
		v.Items = append(v.Items, b.queueItem(r, now))
	}
	return v, nil
}

func (b *Bot) queueItem(r store.QueueRow, now time.Time) QueueItem {
	it := QueueItem{
		CaseID: r.ID, Ref: caseRef(r.ID), Age: now.Sub(r.CreatedAt), State: r.State, Owner: r.Owner, CallerReplied: r.CallerReplied,
		Urgent: r.Urgent, Spam: r.Spam, Overdue: r.DueAt != nil && now.After(*r.DueAt) && r.FirstContactAt == nil,
		Actions: b.actions(r.Case),
	}
	if !r.Withheld() {
		it.Number = config.Format(r.CallerNumber, b.cfg.Business.Region)
	}
	if line, ok := b.line(r.LineNumber); ok {
		it.Line = line.Name
		if r.CallbackAt != nil {
			slot := r.CallbackAt.In(lineZone(line))
			it.Callback = &slot
		}
	} else {
		it.Line = r.LineNumber
	}
	if cat, ok := b.cfg.Category(r.Category); ok {
		it.Category = cat.Label
	}
	switch {
	case r.ContactName != nil && *r.ContactName != "":
		it.Caller = *r.ContactName
	case r.CallerNumber == "":
		it.Caller = "number withheld"
	default:
		it.Caller = config.Format(r.CallerNumber, b.cfg.Business.Region)
	}
	if r.CardChannel != nil && r.CardMessage != nil {
		it.CardChannel, it.CardMessage = *r.CardChannel, *r.CardMessage
	}
	return it
}

// handoverShown is how many cases each list of a handover names; the rest
// are counted.
const handoverShown = 15

// Handover is line's shift handover for the queue check due at due: the
// cases closed since the previous check, with outcomes, and the open ones,
// urgent and overdue first, each with its latest staff note.
func (b *Bot) Handover(ctx context.Context, line *config.Line, due time.Time) (Handover, error) {
	now := b.clock.Now()
	since := previousCheck(line, due)
	h := Handover{Line: line.Name, At: due.In(line.Timezone).Format("15:04"), Since: sinceLabel(since, due, line.Timezone), SinceAt: since}
	open, total, err := b.store.OpenQueue(ctx, store.QueueFilter{Line: line.Number, Limit: 1000, NoSpam: true})
	if err != nil {
		return Handover{}, err
	}
	h.OpenTotal = total
	items := make([]QueueItem, len(open))
	for i, r := range open {
		items[i] = b.queueItem(r, now)
		if r.Owner == "" {
			h.Unclaimed++
		}
		if items[i].Overdue {
			h.Overdue++
		}
		if r.Urgent {
			h.Urgent++
		}
	}
	// Urgent, then overdue, then in queue order (a picked callback at its
	// slot, the others oldest first): the order the next shift works in.
	order := make([]int, len(open))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		rank := func(it QueueItem) int {
			switch {
			case it.Urgent:
				return 0
			case it.Overdue:
				return 1
			}
			return 2
		}
		return rank(items[x]) - rank(items[y])
	})
	closed, closedTotal, err := b.store.ClosedBetween(ctx, line.Number, since, due, handoverShown)
	if err != nil {
		return Handover{}, err
	}
	h.ClosedTotal = closedTotal
	var ids []int64
	for _, i := range order[:min(len(order), handoverShown)] {
		ids = append(ids, open[i].ID)
	}
	for _, r := range closed {
		ids = append(ids, r.ID)
	}
	notes, err := b.store.LatestNotes(ctx, ids)
	if err != nil {
		return Handover{}, err
	}
	for _, i := range order[:min(len(order), handoverShown)] {
		it := items[i]
		h.Open = append(h.Open, HandoverItem{CaseID: it.CaseID, Ref: it.Ref, Caller: it.Caller, Category: it.Category, Owner: it.Owner,
			Urgent: it.Urgent, Overdue: it.Overdue, Age: it.Age, Note: notes[it.CaseID]})
	}
	for _, r := range closed {
		it := b.queueItem(r, now)
		note := r.CloseNote
		if note == "" {
			note = notes[r.ID]
		}
		h.Closed = append(h.Closed, HandoverItem{CaseID: r.ID, Ref: it.Ref, Caller: it.Caller, Category: it.Category, Owner: r.Owner,
			Outcome: strings.ReplaceAll(r.Outcome, "_", " "), Urgent: r.Urgent, Note: note})
	}
	return h, nil
}

// previousCheck is the line's last queue check before due on a day it
// opened: where a handover's "closed since" starts. With none in two
// weeks, a day before due.
func previousCheck(line *config.Line, due time.Time) time.Time {
	local := due.In(line.Timezone)
	for back := 0; back <= 14; back++ {
		noon := time.Date(local.Year(), local.Month(), local.Day()-back, 12, 0, 0, 0, line.Timezone)
		if !line.OpenDay(noon) {
			continue
		}
		var best time.Time
		for _, at := range line.QueueChecks {
			c := time.Date(noon.Year(), noon.Month(), noon.Day(), at.Hour, at.Minute, 0, 0, line.Timezone)
			if c.Before(due) && c.After(best) {
				best = c
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return due.Add(-24 * time.Hour)
}

// sinceLabel says when the previous check was as people would: "08:45"
// today, "Fri 17:15" this week, "Fri 20 Nov 17:15" before.
func sinceLabel(since, due time.Time, loc *time.Location) string {
	s, d := since.In(loc), due.In(loc)
	switch {
	case s.YearDay() == d.YearDay() && s.Year() == d.Year():
		return s.Format("15:04")
	case d.Sub(s) < 6*24*time.Hour:
		return s.Format("Mon 15:04")
	}
	return s.Format("Mon 2 Jan 15:04")
}
