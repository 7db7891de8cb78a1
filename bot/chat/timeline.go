package chat

import (
	"time"
)

// Entry is one line of a case's timeline in its chat thread. Text is
// Ringback's own words (neutral, see Text); Quote is text from outside (an SMS body, a note, a
// transcript), which renderers escape and show as a quote.
type Entry struct {
	CaseID int64  `json:"case_id"`
	Kind   string `json:"kind"`
	Actor  string `json:"actor,omitempty"` // user id; "" for Ringback itself
	// ActorName is the actor's name, shown instead of a mention: nobody
	// is notified of their own action ("" on entries from before).
	ActorName string    `json:"actor_name,omitempty"`
	Text      Text      `json:"text"`
	Quote     string    `json:"quote,omitempty"`
	At        time.Time `json:"at"`
	// Mention asks the renderer to notify: "channel" for the line's channel.
	Mention string `json:"mention,omitempty"`
	// Texts counts the caller's texts a batched entry quotes (a blank line
	// between each); 0 or 1: one.
	Texts int `json:"texts,omitempty"`
	// Key names an entry that may be edited later ("sms:42": a text whose
	// delivery is not known yet); Edit marks the new words of the entry
	// named Key, which replace the posted ones.
	Key  string `json:"key,omitempty"`
	Edit bool   `json:"edit,omitempty"`
}
