package chat

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Card is a case as chat shows it: everything a renderer needs, nothing
// platform-specific. Text fields that came from outside (names, SMS,
// transcripts) are raw here; renderers escape them.
type Card struct {
	CaseID     int64
	Ref        string // "#42"
	State      string // open, claimed, closed
	Urgent     bool
	Overdue    bool
	Spam       bool
	Caller     Caller
	Line       string // the line's name
	LineNumber string
	Channel    string // the line's chat channel
	// DiscordChannel overrides the line's Discord channel ("": the line's).
	DiscordChannel string
	FirstCall      time.Time
	LastCall       *time.Time
	AfterHours     bool
	Calls          int
	Origin         string // call | sms
	TextBack       string // human words: "delivered", "not sent: number withheld"…
	// LastReply is where the latest staff reply stands, in words ("✓
	// delivered", "❌ not delivered: … Call instead."); "" when none was sent.
	LastReply string
	Category  string // key
	// CategoryLabel is the category's label ("" when not triaged).
	CategoryLabel string
	// AutoTriaged says why auto-triage chose the category, when it did:
	// the phrase it found (raw: renderers escape it) and where ("voicemail").
	AutoTriaged *AutoTriage
	Owner       string // user id
	AssignedBy  string
	DueAt       *time.Time
	// Opens is when the case's clock started, when that was after the
	// call: the line was closed ("due 09:10 (opens 09:00)").
	Opens           *time.Time
	VoicemailURL    string
	Transcript      string
	EscalationLevel int
	// Escalation says where escalation stands, in words ("still unclaimed:
	// on-call phone paged"): the one line each step updates.
	Escalation    string
	CallerReplied bool
	Outcome       string
	CloseNote     string
	ClosedBy      string
	ClosedAt      *time.Time
	// FirstContact is the time from the first missed call to the first
	// human contact, when there was one.
	FirstContact *time.Duration
	// PossibleOptOut is the caller's text that may ask for no more texts,
	// while staff have not decided ("" when there is none). The card asks
	// with ActionOptOut and ActionNotOptOut.
	PossibleOptOut string
	Actions        []string // the buttons that make sense now, in order
	// Categories are the options of the ActionCategory select, in the
	// config's order.
	Categories []CategoryOption
	// Callback is the callback the caller asked for on the callback
	// page (nil: none).
	Callback *CallbackRequest
	// CallbackLinked: the caller was texted a callback picker link; with
	// no Callback, they have not used it (yet).
	CallbackLinked bool
	Now            time.Time
}

// CallbackRequest is a caller's pick on the callback page.
type CallbackRequest struct {
	Slot     time.Time // in the line's zone, as the caller chose it
	Category string    // the category's label ("": none chosen)
	Note     string    // the caller's words (raw: renderers escape them)
}

// Words are the card's line for the request: "📅 Callback requested Tue
// 14:30 — Maintenance: 'leaking tap under sink'".
func (r CallbackRequest) Words() Text {
	t := Text{Words("📅 Callback requested " + r.Slot.Format("Mon 15:04"))}
	if r.Category != "" {
		t = append(t, Words(" — "), Said(r.Category))
	}
	if r.Note != "" {
		t = append(t, Words(": '"), Said(r.Note), Words("'"))
	}
	return t
}

// AutoTriage is why Ringback chose a case's category from the caller's words.
type AutoTriage struct {
	Phrase string
	Source string
}

// Caller is who called, as far as Ringback knows.
type Caller struct {
	Number   string // formatted for people; "" when withheld
	E164     string
	Withheld bool
	Name     string
	Kind     string
	Property string
	Unit     string
}

// Case states as a card shows them; the same words as store's (a test in
// bot keeps them so).
const (
	StateOpen    = "open"
	StateClaimed = "claimed"
	StateClosed  = "closed"
)

// Card actions, as chat adapters name their buttons' action ids.
const (
	ActionClaim   = "claim"
	ActionRelease = "release"
	ActionReply   = "reply"
	ActionLog     = "log_callback"
	ActionClose   = "close"
	ActionReopen  = "reopen"
	ActionSpam    = "spam"
	// ActionReassign is a person picker (managers only may use it).
	ActionReassign = "reassign"
	// ActionCategory is a select of the categories (Card.Categories):
	// staff set or correct the case's category.
	ActionCategory = "category"
	// ActionOptOut and ActionNotOptOut decide a possible opt-out.
	ActionOptOut    = "opt_out"
	ActionNotOptOut = "not_opt_out"
)

// CategoryOption is one category staff can choose on the card.
type CategoryOption struct {
	Key, Label string
}

// ActionLabels are the card buttons' labels (DESIGN.md's Slack surface),
// as every platform shows them.
var ActionLabels = map[string]string{
	ActionClaim:   "Claim",
	ActionRelease: "Release",
	ActionReply:   "Reply",
	ActionLog:     "Log callback",
	ActionClose:   "Close",
	ActionReopen:  "Reopen",
	ActionSpam:    "Spam",
	// A possible opt-out's two answers.
	ActionOptOut:    "Opt out",
	ActionNotOptOut: "Not an opt-out",
}

// OptOutQuestion heads the caller's text on a card with a possible
// opt-out; renderers quote PossibleOptOut under it.
func (k Card) OptOutQuestion() Text {
	return Text{Strong("⚠️ Possible opt-out — confirm?"), Words(" Texts still go out until someone decides. The caller wrote:")}
}

// Label is the caller as one line of text: the contact's name and kind,
// else the number, else "number withheld".
func (c Caller) Label() string {
	switch {
	case c.Name != "" && c.Kind != "":
		return fmt.Sprintf("%s (%s)", c.Name, c.Kind)
	case c.Name != "":
		return c.Name
	case c.Withheld:
		return "number withheld"
	}
	return c.Number
}

// Fact is one labelled value of a card.
type Fact struct {
	Name  string
	Value Text
}

// Emoji is the card's state at a glance.
func (k Card) Emoji() string {
	switch {
	case k.State == StateClosed:
		return "✅"
	case k.Urgent:
		return "🚨"
	case k.Overdue:
		return "⏰"
	case k.State == StateClaimed:
		return "🟡"
	}
	return "🔴"
}

// Title is the card's headline.
func (k Card) Title() Text {
	what := "Missed call"
	if k.Origin == "sms" {
		what = "Texted in"
	}
	t := Text{Wordsf("%s %s %s · ", k.Emoji(), k.Ref, what), Said(k.Line)}
	if k.Urgent {
		t = append(t, Words(" · URGENT"))
	}
	return t
}

// Who is the caller's paragraph: name or number, the property, spam.
func (k Card) Who() Text {
	who := Text{Outside(Strong(k.Caller.Label()))}
	if k.Caller.Name != "" && k.Caller.Number != "" {
		who = append(who, Words(" · "), Said(k.Caller.Number))
	}
	if place := strings.Trim(k.Caller.Property+", "+k.Caller.Unit, ", "); place != "" {
		who = append(who, Words("\n🏠 "), Said(place))
	}
	if k.Spam {
		who = append(who, Words("\n🚫 On the spam list"))
	}
	return who
}

// Facts are the card's fields, in order.
func (k Card) Facts() []Fact {
	hours := "In hours"
	if k.AfterHours {
		hours = "After hours"
	}
	owner := Plain("Unclaimed")
	if k.Owner != "" {
		owner = Text{User(k.Owner)}
		if k.AssignedBy == "rota" {
			owner = append(owner, Words(" (assigned by rota)"))
		} else if k.AssignedBy != "" {
			owner = append(owner, Words(" (assigned by "), User(k.AssignedBy), Words(")"))
		}
	}
	category := Plain("Not triaged yet")
	if k.CategoryLabel != "" {
		category = Text{Said(k.CategoryLabel)}
		if a := k.AutoTriaged; a != nil {
			category = append(category, Words(" (auto-triaged: '"), Said(a.Phrase), Words("' in "+a.Source+")"))
		}
	}
	due := Plain("—")
	if k.DueAt != nil {
		use := TimeDue
		if d := k.DueAt.Sub(k.Now); !k.Now.IsZero() && (d >= 12*time.Hour || d <= -12*time.Hour) {
			use = TimeWhen // another day (a slot the caller picked): say which
		}
		due = Text{At(*k.DueAt, use)}
		if k.Overdue {
			due = append(due, Words(" "), Strong("overdue"))
		}
		if k.Opens != nil {
			due = append(due, Words(" (opens "), At(*k.Opens, TimeWhen), Words(")"))
		}
	}
	calls := Plain(strconv.Itoa(k.Calls))
	if k.LastCall != nil && k.Calls > 1 {
		calls = append(calls, Words(" (last "), At(*k.LastCall, TimeLast), Words(")"))
	}
	facts := []Fact{
		{"When", Text{At(k.FirstCall, TimeWhen)}},
		{"Hours", Plain(hours)},
		{"Calls", calls},
		{"Text-back", Text{Said(k.TextBack)}},
		{"Category", category},
		{"Owner", owner},
		{"Due", due},
	}
	if k.LastReply != "" {
		facts = append(facts, Fact{"Last reply", Plain(k.LastReply)})
	}
	if k.Caller.Withheld {
		facts = append(facts, Fact{"Caller", Plain("Number withheld")})
	}
	return facts
}

// Notes are the card's small print.
func (k Card) Notes() []Text {
	var notes []Text
	switch {
	case k.State == StateClosed:
	case k.Callback != nil:
		notes = append(notes, k.Callback.Words())
	case k.CallbackLinked:
		notes = append(notes, Plain("📅 Callback link texted, no time picked yet"))
	}
	if k.CallerReplied {
		notes = append(notes, Plain("💬 Caller replied (see thread)"))
	}
	switch {
	case k.EscalationLevel > 0 && k.Escalation != "":
		notes = append(notes, Plainf("📣 Escalation level %d: %s", k.EscalationLevel, k.Escalation))
	case k.EscalationLevel > 0:
		notes = append(notes, Plainf("📣 Escalation level %d", k.EscalationLevel))
	}
	return append(notes, Text{Words("Line "), Said(k.Line), Words(" · " + k.Ref)})
}
