package chat

import (
	"fmt"
	"time"
)

// QueueItem is one open case as /callbacks lists it.
type QueueItem struct {
	CaseID        int64
	Ref           string
	Age           time.Duration
	Line          string
	Category      string // label; "" untriaged
	State         string // open or claimed
	Owner         string
	Caller        string // label: name (kind), number or "number withheld"
	Number        string // the caller's number, formatted; "" withheld
	CallerReplied bool
	Urgent        bool
	Overdue       bool
	Spam          bool
	// Callback is the slot the caller picked, in the line's zone (nil:
	// none). The queue lists a case by it rather than by its age.
	Callback    *time.Time
	CardChannel string
	CardMessage string
	// Actions are the buttons the case's card offers (chat.Card.Actions).
	Actions []string
}

// QueueView is a page of the open queue, oldest first: a case with a
// callback slot the caller picked at its slot, the others at their first
// missed call.
type QueueView struct {
	Title string
	Items []QueueItem
	Total int  // cases matching in all (Items may be fewer)
	Mine  bool // the cases of whoever asked (/callbacks mine)
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
	if it.Callback != nil {
		flags += " 📅 " + it.Callback.Format("Mon 15:04")
	}
	owner := Words("unclaimed")
	if it.Owner != "" {
		owner = User(it.Owner)
	}
	return Text{ref, Words(flags + " · "), Outside(Strong(it.Caller)), Words(" · "), Said(it.Line), Words(" · "),
		Said(it.CategoryLabel()), Words(" · " + ShortDuration(it.Age) + " ago · "), owner, Words(" · " + it.ReplyWords())}
}

// CategoryLabel is the item's category as listings show it.
func (it QueueItem) CategoryLabel() string {
	if it.Category == "" {
		return "untriaged"
	}
	return it.Category
}

// ReplyWords say whether the caller has replied, as listings show it.
func (it QueueItem) ReplyWords() string {
	if it.CallerReplied {
		return "💬 replied"
	}
	return "no reply yet"
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
