package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ringback/store"
)

// Texter sends SMS through a provider (Twilio).
type Texter interface {
	SendSMS(ctx context.Context, m OutgoingSMS) (SentSMS, error)
	// FindSMS lists the texts like m (same number, line and body) that the
	// provider accepted since `since`, oldest first: a send whose answer was
	// lost may have gone out. Its errors are classified as SendSMS's.
	FindSMS(ctx context.Context, m OutgoingSMS, since time.Time) ([]SentSMS, error)
}

// OutgoingSMS is one text to send.
type OutgoingSMS struct {
	From                string // the line's number
	MessagingServiceSID string // used instead of From when set
	To                  string
	Body                string
	StatusCallback      string // where delivery receipts go
}

// SentSMS is the provider's receipt.
type SentSMS struct {
	SID    string
	Status string
}

// SMSRefusal classifies a provider's refusal to send.
type SMSRefusal int

// Refusals that change what Ringback knows of a number.
const (
	RefusedOther        SMSRefusal = iota
	RefusedUnsubscribed            // the number replied STOP to the provider
	RefusedNotTextable             // a landline or a number that cannot take SMS
)

// SMSError is a provider's error, classified by the Texter.
type SMSError struct {
	Refusal    SMSRefusal
	Code       int  // the provider's code, e.g. Twilio 21610
	Temporary  bool // retrying may succeed (429, 5xx, network)
	RetryAfter time.Duration
	Err        error
}

func (e *SMSError) Error() string { return e.Err.Error() }
func (e *SMSError) Unwrap() error { return e.Err }

// performSMS sends one queued message. It checks the number again at send
// time: a STOP may have arrived while a delayed text waited.
func (b *Bot) performSMS(ctx context.Context, it store.OutboxItem) error {
	var job SMSJob
	if err := it.Decode(&job); err != nil {
		return Permanent(err)
	}
	m, err := b.store.MessageByID(ctx, job.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return Permanent(err)
	}
	if err != nil {
		return err // the database may be restarting: try again
	}
	if m.Status != "pending" {
		return nil // sent by an earlier attempt whose completion was lost
	}
	out := OutgoingSMS{From: m.LineNumber, To: m.CallerNumber, Body: m.Body}
	if line, ok := b.line(m.LineNumber); ok {
		out.MessagingServiceSID = line.MessagingServiceSID
	}
	if b.publicURL != "" {
		// The same on every attempt, so receipts of a text an earlier
		// attempt sent land as well (kept until its SID is adopted).
		out.StatusCallback = b.publicURL + "/twilio/sms/status"
	}
	if m.SendStartedAt != nil && b.texter != nil {
		// An earlier attempt began and recorded no answer: the provider may
		// have the text already (the process died, or the answer was lost).
		// Asked before the opt-out check: a text that went out is recorded
		// as sent, whatever arrived since.
		sent, found, err := b.findSent(ctx, m, out)
		if err != nil {
			return retryable(err)
		}
		if found {
			b.log.Info("adopted a text an earlier attempt sent", "message_id", m.ID, "sid", sent.SID)
			return b.smsAccepted(ctx, m, sent)
		}
	}
	if !job.Force {
		why, err := b.whyNotTextable(ctx, b.store, m.CallerNumber)
		if err != nil {
			return err
		}
		if why != "" {
			return b.smsSettled(ctx, m, "canceled", "", "not sent: "+why, "sms_canceled", map[string]any{"reason": why})
		}
	}
	if b.texter == nil {
		return errNoTexter
	}
	if m.SendStartedAt == nil {
		// Committed before the call, or a crash after it would leave no
		// trace that the text may have gone. The wall clock, not the bot's:
		// FindSMS compares it with the provider's timestamps.
		if _, err := b.store.StartSend(ctx, m.ID, time.Now().UTC()); err != nil {
			return err
		}
	}
	sent, err := b.texter.SendSMS(ctx, out)
	if err == nil {
		return b.smsAccepted(ctx, m, sent)
	}
	var se *SMSError
	if !errors.As(err, &se) || se.Temporary {
		return retryable(err)
	}
	code := fmt.Sprint(se.Code)
	now := b.clock.Now()
	switch se.Refusal {
	case RefusedUnsubscribed:
		if _, err := b.store.OptOut(ctx, m.CallerNumber, fmt.Sprintf("provider_%d", se.Code), now); err != nil {
			return err
		}
		return b.smsSettled(ctx, m, "failed", code, "opted out (the carrier reports the caller unsubscribed)", "opted_out", map[string]any{"source": "provider", "code": se.Code})
	case RefusedNotTextable:
		if err := b.store.MarkUntextable(ctx, m.CallerNumber, fmt.Sprintf("error %d: %s", se.Code, se.Err), now); err != nil {
			return err
		}
		return b.smsSettled(ctx, m, "failed", code, "failed: the number cannot receive texts", "sms_failed", map[string]any{"code": se.Code, "error": se.Error()})
	}
	if err := b.smsSettled(ctx, m, "failed", code, "failed: "+se.Error(), "sms_failed", map[string]any{"code": se.Code, "error": se.Error()}); err != nil {
		return err
	}
	return Permanent(err)
}

// findSent looks at the provider for the text m that an earlier attempt may
// have sent. A text the provider holds under a SID another message owns is
// not m's (the same words sent twice on purpose, say a repeat caller's).
func (b *Bot) findSent(ctx context.Context, m store.Message, out OutgoingSMS) (SentSMS, bool, error) {
	found, err := b.texter.FindSMS(ctx, out, *m.SendStartedAt)
	if err != nil {
		return SentSMS{}, false, err
	}
	for _, sent := range found {
		owner, err := b.store.MessageBySID(ctx, sent.SID)
		if errors.Is(err, store.ErrNotFound) || err == nil && owner.ID == m.ID {
			return sent, true, nil
		}
		if err != nil {
			return SentSMS{}, false, err
		}
	}
	return SentSMS{}, false, nil
}

// retryable is a temporary provider error as the outbox wants it: with the
// provider's Retry-After when it gave one.
func retryable(err error) error {
	var se *SMSError
	if errors.As(err, &se) && se.Temporary && se.RetryAfter > 0 {
		return RetryAfter(se.RetryAfter, err)
	}
	return err
}

// smsAccepted records the provider's acceptance of a message.
func (b *Bot) smsAccepted(ctx context.Context, m store.Message, sent SentSMS) error {
	now := b.clock.Now()
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		m, err := tx.MessageByID(ctx, m.ID)
		if err != nil {
			return err
		}
		m.SID = &sent.SID
		if statusRank(sent.Status) > statusRank(m.Status) || m.Status == "pending" {
			m.Status = sent.Status
		}
		m.AcceptedAt = &now
		m.UpdatedAt = now
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		if r, early, err := tx.TakeReceipt(ctx, sent.SID); err != nil {
			return err
		} else if early {
			if err := b.applyReceipt(ctx, tx, m, r.Status, r.ErrorCode, now); err != nil {
				return err
			}
			if m, err = tx.MessageByID(ctx, m.ID); err != nil {
				return err
			}
		}
		if m.CaseID == nil {
			return nil
		}
		c, err := tx.LockCase(ctx, *m.CaseID)
		if err != nil {
			return err
		}
		if m.Kind == "textback" {
			c.TextbackStatus = m.Status
		}
		c.UpdatedAt = now
		if err := tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		if err := tx.AddEvent(ctx, c.ID, now, "sms_sent", m.SentBy, map[string]any{"message_id": m.ID, "kind": m.Kind, "sid": sent.SID}); err != nil {
			return err
		}
		if err := b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntrySMSOut, Actor: m.SentBy, Text: Plain(smsWords(m.Kind)), Quote: m.Body}); err != nil {
			return err
		}
		return b.caseChanged(ctx, tx, c, "sms_sent")
	})
}

// smsSettled records a message that will not be sent (or failed for good),
// with the reason on its case.
func (b *Bot) smsSettled(ctx context.Context, m store.Message, status, code, caseStatus, event string, data map[string]any) error {
	now := b.clock.Now()
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		m.Status, m.ErrorCode, m.UpdatedAt = status, code, now
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		if m.CaseID == nil {
			return nil
		}
		c, err := tx.LockCase(ctx, *m.CaseID)
		if err != nil {
			return err
		}
		if m.Kind == "textback" {
			c.TextbackStatus = caseStatus
		}
		c.UpdatedAt = now
		if err := tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		data["message_id"] = m.ID
		if err := tx.AddEvent(ctx, c.ID, now, event, "", data); err != nil {
			return err
		}
		if err := b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryTextBack, Text: Plain(smsWords(m.Kind) + ": " + caseStatus)}); err != nil {
			return err
		}
		return b.caseChanged(ctx, tx, c, event)
	})
}

// outboxDead puts a side effect that gave up on its case's timeline.
func (b *Bot) outboxDead(ctx context.Context, it store.OutboxItem, err error) {
	if it.Kind == KindSMS {
		var job SMSJob
		if it.Decode(&job) == nil {
			if m, merr := b.store.MessageByID(ctx, job.MessageID); merr == nil && m.Status == "pending" {
				if serr := b.smsSettled(ctx, m, "failed", "", "failed: "+err.Error(), "sms_failed", map[string]any{"error": err.Error(), "gave_up": true}); serr != nil {
					b.log.Error("recording a dead SMS failed", "error", serr)
				}
				return
			}
		}
	}
	if it.CaseID != nil {
		if aerr := b.store.AddEvent(ctx, *it.CaseID, b.clock.Now(), "side_effect_failed", "", map[string]any{"kind": it.Kind, "error": err.Error()}); aerr != nil {
			b.log.Error("recording a dead outbox row failed", "error", aerr)
		}
	}
}

// statusRank orders Twilio's message statuses so a late receipt never
// moves a message backwards (delivered, then a delayed "sent").
func statusRank(s string) int {
	switch s {
	case "pending":
		return 0
	case "accepted", "scheduled", "queued":
		return 1
	case "sending":
		return 2
	case "sent":
		return 3
	case "delivered", "undelivered", "failed", "read", "canceled", "received":
		return 4
	}
	return 0
}

// smsWords names a kind of outgoing text for the timeline.
func smsWords(kind string) string {
	switch kind {
	case "textback":
		return "Text-back"
	case "template":
		return "Reply sent"
	case "safety":
		return "Safety reply"
	case "help":
		return "Help reply"
	case "optout_confirm":
		return "Opt-out confirmation"
	}
	return "Text"
}
