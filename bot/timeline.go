package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
		err := tx.EnqueueLater(store.NewOutbox{
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

// batchQuoteMax bounds a batched entry's quote well inside what a chat
// message shows (Slack's section text, Discord's message length).
const batchQuoteMax = 1500

// callerTexted shows a caller's text in the case's thread. Texts that
// arrive while the previous entry has not been posted join it, and a new
// entry waits for the limits.thread_batch interval: a caller flooding the
// line makes one thread update per interval, and every text still shows.
func (b *Bot) callerTexted(ctx context.Context, tx *store.Tx, caseID int64, quote string) error {
	now := b.clock.Now()
	e := Entry{CaseID: caseID, Kind: EntrySMSIn, Text: Plain("Caller texted"), Quote: quote, At: now, Texts: 1}
	nonce := newNonce()
	for _, chat := range b.chats {
		prefix := fmt.Sprintf("thread:%s:%d:%s:", chat, caseID, EntrySMSIn)
		err := tx.EnqueueBatched(ctx, store.NewOutbox{
			Kind: KindThread + "." + chat, DedupeKey: prefix + nonce, Payload: e, CaseID: caseID,
		}, prefix, b.cfg.Limits.ThreadBatch, now, func(payload string) (any, bool) {
			var prev Entry
			if json.Unmarshal([]byte(payload), &prev) != nil || len(prev.Quote)+len(quote) > batchQuoteMax {
				return nil, false
			}
			prev.Texts = max(prev.Texts, 1) + 1
			prev.Text = Plainf("Caller texted %d times", prev.Texts)
			prev.Quote += "\n\n" + quote
			return prev, true
		})
		if err != nil {
			return err
		}
	}
	return nil
}
