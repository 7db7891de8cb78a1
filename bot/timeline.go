package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"ringback/store"
)

// Entry is one line of a case's timeline in its chat thread. Text is
// Ringback's own words (neutral, see Text); Quote is text from outside (an SMS body, a note, a
// transcript), which renderers escape and show as a quote.
type Entry struct {
	CaseID int64     `json:"case_id"`
	Kind   string    `json:"kind"`
	Actor  string    `json:"actor,omitempty"` // user id; "" for Ringback itself
	Text   Text      `json:"text"`
	Quote  string    `json:"quote,omitempty"`
	At     time.Time `json:"at"`
	// Mention asks the renderer to notify: "channel" for the line's channel.
	Mention string `json:"mention,omitempty"`
}

// Thread entry kinds.
const (
	EntrySMSIn     = "sms_in"
	EntrySMSOut    = "sms_out"
	EntryClaimed   = "claimed"
	EntryReleased  = "released"
	EntryReassign  = "reassigned"
	EntryCallback  = "callback"
	EntryClosed    = "closed"
	EntryReopened  = "reopened"
	EntrySpam      = "spam"
	EntryVoicemail = "voicemail"
	EntryRepeat    = "repeat_call"
	EntryTextBack  = "textback"
	EntryTriaged   = "triaged"
	EntryOptOut    = "opted_out"
	EntryReminder  = "reminder"
)

// KindThread is the outbox kind of a timeline entry (+ "." + platform).
const KindThread = "chat.thread"

// timeline queues e for the case's thread on every chat platform.
func (b *Bot) timeline(ctx context.Context, tx *store.Tx, e Entry) error {
	if e.At.IsZero() {
		e.At = b.clock.Now()
	}
	nonce := newNonce()
	for _, chat := range b.chats {
		_, _, err := tx.Enqueue(ctx, store.NewOutbox{
			Kind:      KindThread + "." + chat,
			DedupeKey: fmt.Sprintf("thread:%s:%d:%s:%s", chat, e.CaseID, e.Kind, nonce),
			Payload:   e,
			CaseID:    e.CaseID,
		}, b.clock.Now())
		if err != nil {
			return err
		}
	}
	return nil
}

// newNonce makes dedupe keys unique for work that has no natural key (each
// change of a case is a new fact).
func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
