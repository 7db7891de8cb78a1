package chat

import (
	"fmt"
	"strings"
	"time"
)

// Handover is a line's shift handover, posted at its queue-check times:
// what closed since the last one and what is open, urgent and overdue
// first, each with its latest staff note.
type Handover struct {
	Line    string    `json:"line"`
	At      string    `json:"at"`    // "17:15", the check's local time
	Since   string    `json:"since"` // the previous check, as people say it: "08:45", "Fri 17:15"
	SinceAt time.Time `json:"since_at"`

	Closed      []HandoverItem `json:"closed,omitempty"` // in the order they closed
	ClosedTotal int            `json:"closed_total"`

	Open      []HandoverItem `json:"open,omitempty"` // urgent, overdue, then oldest first
	OpenTotal int            `json:"open_total"`
	Unclaimed int            `json:"unclaimed"`
	Overdue   int            `json:"overdue"`
	Urgent    int            `json:"urgent"`
}

// HandoverItem is one case of a handover.
type HandoverItem struct {
	CaseID   int64         `json:"case_id"`
	Ref      string        `json:"ref"`
	Caller   string        `json:"caller"`             // label: name, number or "number withheld"
	Category string        `json:"category,omitempty"` // label; "" untriaged
	Owner    string        `json:"owner,omitempty"`    // user id; "" unclaimed
	Outcome  string        `json:"outcome,omitempty"`  // closed cases: "booked", "no contact"…
	Urgent   bool          `json:"urgent,omitempty"`
	Overdue  bool          `json:"overdue,omitempty"`
	Age      time.Duration `json:"age,omitempty"`  // open cases: since the first call
	Note     string        `json:"note,omitempty"` // the latest staff note, as typed
}

// Summary is the handover's first line: the counts.
func (h Handover) Summary() Text {
	t := Text{Words("📋 "), Strong(fmt.Sprintf("%s queue at %s", h.Line, h.At)),
		Wordsf(": %d open, %d unclaimed, %d overdue", h.OpenTotal, h.Unclaimed, h.Overdue)}
	if h.Urgent > 0 {
		t = append(t, Wordsf(", %d urgent", h.Urgent))
	}
	return append(t, Wordsf(". %d closed since %s.", h.ClosedTotal, h.Since))
}

// OpenHeading and ClosedHeading title the handover's two lists.
func (h Handover) OpenHeading() string {
	if h.OpenTotal == 0 {
		return "Open: nothing waiting 🎉"
	}
	return fmt.Sprintf("Open (%d), urgent and overdue first", h.OpenTotal)
}

// ClosedHeading titles the list of cases closed since the last check.
func (h Handover) ClosedHeading() string {
	return fmt.Sprintf("Closed since %s (%d)", h.Since, h.ClosedTotal)
}

// OpenLine is an open case as one line: flags, caller, category, age,
// owner, the latest note.
func (it HandoverItem) OpenLine() Text {
	var flags []string
	if it.Urgent {
		flags = append(flags, "🚨 urgent")
	}
	if it.Overdue {
		flags = append(flags, "⏰ overdue")
	}
	t := Text{Words(it.Ref)}
	if len(flags) > 0 {
		t = append(t, Words(" "+strings.Join(flags, " ")))
	}
	t = append(t, Words(" · "), Outside(Strong(it.Caller)), Words(" · "), Said(it.category()), Words(" · "+ShortDuration(it.Age)+" old · "))
	if it.Owner != "" {
		t = append(t, User(it.Owner))
	} else {
		t = append(t, Strong("unclaimed"))
	}
	return it.withNote(t)
}

// ClosedLine is a closed case as one line: caller, category, outcome, the
// close note (or the latest one).
func (it HandoverItem) ClosedLine() Text {
	t := Text{Words(it.Ref + " · "), Outside(Strong(it.Caller)), Words(" · "), Said(it.category()), Words(" · "), Strong(it.Outcome)}
	return it.withNote(t)
}

func (it HandoverItem) category() string {
	if it.Category == "" {
		return "untriaged"
	}
	return it.Category
}

// handoverNoteRunes keeps a handover line to a glance; the card has the rest.
const handoverNoteRunes = 120

func (it HandoverItem) withNote(t Text) Text {
	if it.Note == "" {
		return t
	}
	note := strings.Join(strings.Fields(it.Note), " ")
	if r := []rune(note); len(r) > handoverNoteRunes {
		note = string(r[:handoverNoteRunes-1]) + "…"
	}
	return append(t, Words(" — 📝 "), Said(note))
}

// MoreOpen and MoreClosed say how many cases a list leaves out ("" when
// none).
func (h Handover) MoreOpen(shown int) string {
	if h.OpenTotal <= shown {
		return ""
	}
	return fmt.Sprintf("…and %d more: /callbacks line %s lists them all.", h.OpenTotal-shown, h.Line)
}

// MoreClosed is MoreOpen for the closed cases.
func (h Handover) MoreClosed(shown int) string {
	if h.ClosedTotal <= shown {
		return ""
	}
	return fmt.Sprintf("…and %d more closed.", h.ClosedTotal-shown)
}

// Text is the whole handover as one text: the post's fallback, and what a
// platform without richer layout shows.
func (h Handover) Text() Text {
	t := h.Summary()
	section := func(heading string, lines []Text, more func(int) string) {
		t = append(t, Words("\n\n"), Strong(heading))
		for _, l := range lines {
			t = append(t, Words("\n• "))
			t = append(t, l...)
		}
		if m := more(len(lines)); m != "" {
			t = append(t, Words("\n"+m))
		}
	}
	section(h.OpenHeading(), h.OpenLines(), h.MoreOpen)
	if h.ClosedTotal > 0 {
		section(h.ClosedHeading(), h.ClosedLines(), h.MoreClosed)
	}
	return t
}

// OpenLines and ClosedLines are the lists' lines.
func (h Handover) OpenLines() []Text {
	out := make([]Text, len(h.Open))
	for i, it := range h.Open {
		out[i] = it.OpenLine()
	}
	return out
}

// ClosedLines are the closed cases' lines.
func (h Handover) ClosedLines() []Text {
	out := make([]Text, len(h.Closed))
	for i, it := range h.Closed {
		out[i] = it.ClosedLine()
	}
	return out
}
