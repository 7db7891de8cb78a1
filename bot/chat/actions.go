package chat

import (
	"ringback/templates"
	"strings"
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
	Key      string
	Text     string
	Preview  string // variables filled; unfilled ones shown as [name]
	Missing  []string
	Segments templates.SegmentInfo
}

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
