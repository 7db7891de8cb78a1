package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"ringback/store"
)

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
