package chat

import (
	"strings"
	"time"

	"ringback/templates"
)

// Actor is a person acting in chat.
type Actor struct {
	ID   string // the platform's user id
	Name string // display name, for {{agent}}
	// Staff is set by the adapter when the person may work cases (a member
	// of a line channel or of the staff group). Managers always may.
	Staff bool
	// Lines are the numbers of the lines whose staff the person is, when
	// the platform tells (Slack: the line channels they are in); nil with
	// Staff: every line (the staff group, Discord's staff role).
	Lines []string
}

// Refusal is an action the bot declined, with words for the person who
// tried (chat shows them only to that person).
type Refusal struct {
	Message string
	Owner   string // set when the refusal is "already claimed"
	// Rich, when set, is Message with markup (a usage's command).
	Rich Text
}

func (r *Refusal) Error() string { return "bot: refused: " + r.Message }

// Outcomes a case closes with (DESIGN.md).
var Outcomes = []string{"booked", "resolved", "reached", "no_contact", "not_qualified", "spam", "wrong_number"}

// CallbackResults a logged callback may have.
var CallbackResults = []string{"reached", "left_voicemail", "no_answer", "wrong_number"}

// TemplateChoice is an approved template offered for a case.
type TemplateChoice struct {
	Key string
	// Label is how staff know it ("Viewing slots"); Category names the
	// cases it is for ("Viewing / lettings", or AnyCategory).
	Label    string
	Category string
	Text     string
	Preview  string // variables filled (or their fallbacks); unfilled ones shown as [name]
	Missing  []string
	Segments templates.SegmentInfo
	// Blocked, when set, is why the preview cannot be sent, in words for
	// the person replying ("Ringback does not know the caller name"); the
	// modal shows it and offers no Send.
	Blocked string
}

// AnyCategory is the Category of a template for every case.
const AnyCategory = "Any case"

// Text is the refusal as the person refused reads it, naming the owner of
// a case someone else has.
func (r *Refusal) Text() Text {
	if r.Rich != nil {
		return r.Rich
	}
	if r.Owner == "" {
		return Plain(r.Message)
	}
	return Text{Words(strings.TrimSuffix(r.Message, ".") + " by "), User(r.Owner), Words(".")}
}

// ReplyTiming tells staff, as they reply, whether the text would reach the
// caller in their quiet hours. The zero value: it would not (or quiet
// hours do not apply), so the Reply modal offers only Send.
type ReplyTiming struct {
	Quiet     bool      // the caller's local time is outside their window
	CallerNow time.Time // now, in the caller's time zone
	SendAt    time.Time // the window's next opening, in the caller's time zone
	Window    string    // "08:00–20:00"
	Law       string    // "Florida law" when a state's stricter law narrows it
}

// The two answers of a Reply outside the window.
const (
	ReplyNow   = "now"
	ReplyLater = "later"
)

// LaterLabel is the scheduled choice: "Send at 08:00".
func (r ReplyTiming) LaterLabel() string { return "Send at " + r.SendAt.Format("15:04") }

// Note says what the person replying needs to know: "It is 20:30 for the
// caller (EST). Texts wait for their window, 08:00–20:00 (Florida law);
// send now only if they expect it (you just spoke)."
func (r ReplyTiming) Note() Text {
	window := r.Window
	if r.Law != "" {
		window += " (" + r.Law + ")"
	}
	return Text{Words("It is "), Strong(r.CallerNow.Format("15:04")), Words(" for the caller (" + r.CallerNow.Format("Mon, MST") +
		"). Texts wait for their window, " + window + "; send now only if they expect it (say, you just spoke).")}
}

// Name is the choice's label, or its key in words when it has none.
func (c TemplateChoice) Name() string {
	if c.Label != "" {
		return c.Label
	}
	return strings.ReplaceAll(c.Key, "_", " ")
}

// Group is the choice's category, AnyCategory when it names none.
func (c TemplateChoice) Group() string {
	if c.Category != "" {
		return c.Category
	}
	return AnyCategory
}
