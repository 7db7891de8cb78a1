package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
)

// QueueItem is one open case as /callbacks lists it.
type QueueItem struct {
	CaseID        int64
	Ref           string
	Age           time.Duration
	Line          string
	Category      string // label; "" untriaged
	Owner         string
	Caller        string // label: name (kind), number or "number withheld"
	CallerReplied bool
	Urgent        bool
	Overdue       bool
	Spam          bool
	CardChannel   string
	CardMessage   string
}

// QueueView is a page of the open queue, oldest first.
type QueueView struct {
	Title string
	Items []QueueItem
	Total int // cases matching in all (Items may be fewer)
}

// QueueRequest says which part of the queue to show.
type QueueRequest struct {
	Mine     bool
	Overdue  bool
	LineName string
	Actor    Actor
	Platform string // whose card links to include
	Limit    int
}

// Queue lists open cases for /callbacks.
func (b *Bot) Queue(ctx context.Context, r QueueRequest) (QueueView, error) {
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

// Listing is the item as one line of a queue listing; ref is its case
// number, linked to the card where the platform can.
func (it QueueItem) Listing(ref Span) Text {
	flags := ""
	if it.Urgent {
		flags += " 🚨"
	}
	if it.Overdue {
		flags += " ⏰ overdue"
	}
	category := it.Category
	if category == "" {
		category = "untriaged"
	}
	owner := Words("unclaimed")
	if it.Owner != "" {
		owner = User(it.Owner)
	}
	reply := "no reply yet"
	if it.CallerReplied {
		reply = "💬 replied"
	}
	return Text{ref, Words(flags + " · "), Outside(Strong(it.Caller)), Words(" · "), Said(it.Line), Words(" · "),
		Said(category), Words(" · " + ShortDuration(it.Age) + " ago · "), owner, Words(" · " + reply)}
}

// ShortDuration says a duration the way people do on a card or in a
// reminder: "45s", "10 min", "2h 31m", "3d 4h".
func ShortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}
