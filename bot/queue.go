package bot

import (
	"context"
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
	v := QueueView{Title: title, Total: total, Items: make([]QueueItem, 0, len(rows))}
	for _, r := range rows {
		v.Items = append(v.Items, b.queueItem(r, now))
	}
	return v, nil
}

func (b *Bot) queueItem(r store.QueueRow, now time.Time) QueueItem {
	it := QueueItem{
		CaseID: r.ID, Ref: caseRef(r.ID), Age: now.Sub(r.CreatedAt), Owner: r.Owner, CallerReplied: r.CallerReplied,
		Urgent: r.Urgent, Spam: r.Spam, Overdue: r.DueAt != nil && now.After(*r.DueAt) && r.FirstContactAt == nil,
	}
	if line, ok := b.line(r.LineNumber); ok {
		it.Line = line.Name
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
