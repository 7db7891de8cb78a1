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

// SentSMS is the provider's acceptance of a text. A text found at the
// provider after the fact (FindSMS) may have failed since: Problem and
// Code say why, as a receipt would.
type SentSMS struct {
	SID     string
	Status  SMSState
	Problem SMSProblem
	Code    string
}

// SMSState is where an outgoing text stands, in Ringback's words (stored
// on the message and shown on its case). The Texter translates the
// provider's statuses into these.
type SMSState string

// The states of an outgoing text, in the order a text moves through them.
const (
	SMSPending     SMSState = "pending"     // not yet handed to the provider
	SMSAccepted    SMSState = "accepted"    // taken by the provider, not yet queued
	SMSScheduled   SMSState = "scheduled"   // held by the provider for a later time
	SMSQueued      SMSState = "queued"      // waiting at the provider to go out
	SMSSending     SMSState = "sending"     // leaving the provider
	SMSSent        SMSState = "sent"        // handed to the carrier
	SMSDelivered   SMSState = "delivered"   // the handset has it
	SMSRead        SMSState = "read"        // the caller opened it
	SMSUndelivered SMSState = "undelivered" // the carrier could not deliver it
	SMSFailed      SMSState = "failed"      // it never left (or was refused)
	SMSCanceled    SMSState = "canceled"    // not sent, on purpose
	SMSReceived    SMSState = "received"    // a text from the caller
)

// SMSProblem is why a text was refused or not delivered, as far as it
// changes what Ringback knows of the number.
type SMSProblem string

// Problems the Texter recognises; any other failure is SMSProblemOther.
const (
	SMSProblemOther         SMSProblem = ""
	SMSProblemUnsubscribed  SMSProblem = "unsubscribed"   // the number replied STOP to the provider
	SMSProblemNotTextable   SMSProblem = "not_textable"   // a landline or a number that cannot take SMS
	SMSProblemUnreachable   SMSProblem = "unreachable"    // the handset is off or out of coverage: may work later
	SMSProblemUnknownNumber SMSProblem = "unknown_number" // no such handset, or not in service
	SMSProblemFiltered      SMSProblem = "filtered"       // the carrier blocked it
	// The line's number may not send texts yet (not registered for business
	// texting): the operator must fix it; every text from it fails till then.
	SMSProblemSenderUnregistered SMSProblem = "sender_unregistered"
)

// SMSReceipt is a provider's delivery report on a text.
type SMSReceipt struct {
	SID     string
	State   SMSState   // "" when the provider's status means nothing to Ringback
	Problem SMSProblem // why it failed, when it did
	Code    string     // the provider's error code, kept on the message as reported ("": none)
}

// Failed reports whether r says its text failed: a failed or undelivered
// status, or a problem the provider named (which teaches about the number).
func (r SMSReceipt) Failed() bool { return smsFailed(r.State) || r.Problem != "" }

// SMSError is a provider's error, classified by the Texter.
type SMSError struct {
	Problem   SMSProblem
	Code      int  // the provider's code, kept for the record
	Temporary bool // retrying may succeed (429, 5xx, network)
	// Refused: the provider answered that it took nothing (429, 503), or
	// was never reached; no text of this attempt can be there.
	Refused    bool
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
	// A text that can go now records that its attempt begins in the
	// statement that reads it, on PostgreSQL the claim that took its row
	// (committed before the call: a crash after the call leaves a trace
	// that the text may have gone). The wall clock, not the bot's: FindSMS
	// compares it with the provider's timestamps.
	var startAt time.Time
	if b.texter != nil && !job.Scheduled && job.NotAfter.IsZero() {
		startAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	var m store.Message
	var optedOut bool
	var untextable string
	if s := it.Sending; s != nil && !startAt.IsZero() {
		// Recorded and read by the claim (Worker.startSends).
		m, optedOut, untextable, startAt = s.Message, s.OptedOut, s.Untextable, s.StartAt
	} else {
		var err error
		m, optedOut, untextable, err = b.store.MessageToSend(ctx, job.MessageID, startAt)
		if errors.Is(err, store.ErrNotFound) {
			return Permanent(err)
		}
		if err != nil {
			return err // the database may be restarting: try again
		}
	}
	if m.Status != string(SMSPending) {
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
	earlier := m.SendStartedAt != nil && !m.SendStartedAt.Equal(startAt)
	if earlier && b.texter != nil {
		// An earlier attempt began and recorded no answer: the provider may
		// have the text already (the process died, or the answer was lost).
		// Asked before the opt-out check: a text that went out is recorded
		// as sent, whatever arrived since.
		if err := b.smsPause.Held(); err != nil {
			return err
		}
		sent, found, err := b.findSent(ctx, m, out)
		if err != nil {
			return err
		}
		if found {
			b.log.Info("adopted a text an earlier attempt sent", "message_id", m.ID, "sid", sent.SID)
			return b.smsAccepted(ctx, m, sent)
		}
	}
	if !job.NotAfter.IsZero() && b.clock.Now().After(job.NotAfter) {
		return b.smsSettled(ctx, m, SMSCanceled, "", "not sent: too late to send", "sms_canceled", map[string]any{"reason": "too late", "not_after": job.NotAfter})
	}
	if !job.Force {
		why := notTextable(optedOut, untextable)
		if earlier {
			// Asked again: the provider was asked first, and a STOP may
			// have come in meanwhile.
			var err error
			if why, err = b.whyNotTextable(ctx, b.store, m.CallerNumber); err != nil {
				return err
			}
		}
		if why != "" {
			return b.smsSettled(ctx, m, SMSCanceled, "", "not sent: "+why, "sms_canceled", map[string]any{"reason": why})
		}
	}
	if b.texter == nil {
		return errNoTexter
	}
	if err := b.stillQuiet(m, job); err != nil {
		return err
	}
	// own is when this attempt's start was recorded, when no earlier
	// attempt's record stands (zero otherwise).
	var own time.Time
	if !earlier {
		own = startAt
	}
	if m.SendStartedAt == nil {
		// Not recorded with the read (a scheduled or time-bound text):
		// committed before the call all the same.
		at := time.Now().UTC().Truncate(time.Microsecond)
		first, err := b.store.StartSend(ctx, m.ID, at)
		if err != nil {
			return err
		}
		if first.Equal(at) {
			own = at
		}
	}
	if err := b.smsPause.Held(); err != nil {
		return err
	}
	sent, err := b.texter.SendSMS(ctx, out)
	if err == nil {
		return b.smsAccepted(ctx, m, sent)
	}
	var se *SMSError
	if !errors.As(err, &se) || se.Temporary {
		if se != nil && se.Refused {
			b.refused(ctx, m.ID, own)
		}
		return b.smsRemoteFailed(err)
	}
	code := fmt.Sprint(se.Code)
	m.Problem = string(se.Problem) // the card says why, as for a failed receipt
	now := b.clock.Now()
	switch se.Problem {
	case SMSProblemUnsubscribed:
		if _, err := b.store.OptOut(ctx, m.CallerNumber, fmt.Sprintf("provider_%d", se.Code), now); err != nil {
			return err
		}
		return b.smsSettled(ctx, m, SMSFailed, code, "opted out (the carrier reports the caller unsubscribed)", "opted_out", map[string]any{"source": "provider", "code": se.Code})
	case SMSProblemNotTextable:
		if err := b.store.MarkUntextable(ctx, m.CallerNumber, fmt.Sprintf("error %d: %s", se.Code, se.Err), now); err != nil {
			return err
		}
		return b.smsSettled(ctx, m, SMSFailed, code, "failed: the number cannot receive texts", "sms_failed", map[string]any{"code": se.Code, "error": se.Error()})
	}
	if err := b.smsSettled(ctx, m, SMSFailed, code, "failed: "+se.Error(), "sms_failed", map[string]any{"code": se.Code, "error": se.Error()}); err != nil {
		return err
	}
	return Permanent(err)
}

// findSent looks at the provider for the text m that an earlier attempt may
// have sent. Only the provider's failures hold every text (smsRemoteFailed);
// the database's fail this row alone. A text the provider holds under a SID another message owns is
// not m's (the same words sent twice on purpose, say a repeat caller's).
func (b *Bot) findSent(ctx context.Context, m store.Message, out OutgoingSMS) (SentSMS, bool, error) {
	found, err := b.texter.FindSMS(ctx, out, *m.SendStartedAt)
	if err != nil {
		return SentSMS{}, false, b.smsRemoteFailed(err)
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
// smsOutageProbe is how long texts hold after the provider failed a call
// for reasons of its own (5xx, network, 429 without Retry-After): one text a
// second probes whether it is back.
const smsOutageProbe = time.Second

// smsRemoteFailed holds every text for a moment after the provider failed
// a call for reasons of its own, and says how the row retries.
func (b *Bot) smsRemoteFailed(err error) error {
	b.metrics.SMS("retry")
	err = retryable(err)
	var ra *RetryAfterError
	if !errors.As(err, &ra) {
		b.smsPause.Note(RetryAfter(smsOutageProbe, err))
	} else {
		b.smsPause.Note(err)
	}
	return err
}

// refused forgets that this attempt to send message id began (at own),
// when the provider refused it: the next attempt then sends at once
// instead of first asking the provider for a text that cannot be there
// (in a Twilio outage, every retry would). An earlier attempt's record
// stays (own zero), and so does one whose row's claim was taken over: the
// new worker may be sending under it.
func (b *Bot) refused(ctx context.Context, id int64, own time.Time) {
	c, inWorker := ctx.Value(claimedKey{}).(*claimed)
	if own.IsZero() || !inWorker {
		return
	}
	if ferr := b.store.ForgetSendStart(ctx, id, own, c.it); ferr != nil {
		b.log.Warn("a refused text's attempt not forgotten; the next one asks the provider first", "message_id", id, "error", ferr)
	}
}

func retryable(err error) error {
	var se *SMSError
	if errors.As(err, &se) && se.Temporary && se.RetryAfter > 0 {
		return RetryAfter(se.RetryAfter, err)
	}
	return err
}

// smsAccepted records the provider's acceptance of a message; a staff
// reply (sent now or scheduled) counts as human contact from now on.
func (b *Bot) smsAccepted(ctx context.Context, m store.Message, sent SentSMS) error {
	now := b.clock.Now()
	var outcomes []string // of receipts that came first, counted once committed
	// asRead: the text is recorded as it was read when claimed, in the
	// commit's one statement (store.Tx.AcceptMessageAsRead), as it nearly
	// always is. Not a staff reply: its contact locks the case first,
	// where the other ways take the SID's lock first.
	asRead := sent.Code == "" && m.Kind != "template"
	careful := false
	// kept: the text as this commit writes it, when no receipt came with it
	// (accepted).
	var kept *store.Message
	record := func(tx *store.Tx) error {
		outcomes = outcomes[:0]
		kept = nil
		status := sent.Status
		if sent.Code != "" {
			// Found failed at the provider: the receipt below records how,
			// as a late receipt would.
			status = SMSAccepted
		}
		// A receipt for this SID waits for this commit (LockMessageSID):
		// taken by the statement recording the SID, or, on the rare run
		// again after a receipt came meanwhile, first.
		accept := tx.AcceptMessageLocked
		switch {
		case asRead:
			accept = func(ctx context.Context, _ int64, sid, status string, now time.Time) (store.Message, bool, bool, error) {
				m, err := tx.AcceptMessageAsRead(ctx, m, sid, status, now)
				return m, true, false, err
			}
		case careful:
			if err := tx.LockMessageSID(ctx, sent.SID); err != nil {
				return err
			}
			accept = tx.AcceptMessage
		}
		m, recorded, receiptWaits, err := accept(ctx, m.ID, sent.SID, string(status), now)
		if err != nil {
			return err
		}
		if !recorded {
			// Recorded already by a worker whose claim overlapped this
			// one's: once on the case, once in its thread.
			return completeInTx(ctx, tx)
		}
		if m.Status == string(status) && smsArrived(status) {
			// The provider's answer already says delivered: no receipt will.
			outcomes = append(outcomes, "delivered")
		}
		// Contact counts once the provider has the text; a failed receipt
		// below takes it back.
		if err := b.contactSent(ctx, tx, m, now); err != nil {
			return err
		}
		var receipts []SMSReceipt
		if sent.Code != "" {
			receipts = append(receipts, SMSReceipt{SID: sent.SID, State: sent.Status, Problem: sent.Problem, Code: sent.Code})
		}
		if receiptWaits {
			r, early, err := tx.TakeReceipt(ctx, sent.SID)
			if err != nil {
				return err
			}
			if early {
				receipts = append(receipts, SMSReceipt{SID: r.SID, State: SMSState(r.Status), Problem: SMSProblem(r.Problem), Code: r.ErrorCode})
			}
		}
		if len(receipts) == 0 {
			// Whichever way it was recorded, m is the text as written
			// (a statement's RETURNING, or as read and conditionally
			// written): its receipts need not read it.
			written := m
			kept = &written
		}
		for _, r := range receipts {
			if o := receiptOutcome(m, r); o != "" {
				outcomes = append(outcomes, o)
			}
			if err := b.applyReceipt(ctx, tx, m, r, now); err != nil {
				return err
			}
			if m, err = tx.MessageByID(ctx, m.ID); err != nil {
				return err
			}
		}
		if m.CaseID != nil {
			if err := b.messageOnCase(ctx, tx, m, textBackStatus(m), now, "sms_sent", m.SentBy, map[string]any{"message_id": m.ID, "kind": m.Kind, "sid": sent.SID},
				smsEntry(m)); err != nil {
				return err
			}
		}
		// The text's outbox row is done with it, in the same commit.
		return completeInTx(ctx, tx)
	}
	err := b.store.InTx(ctx, record)
	if asRead && errors.Is(err, store.ErrChangedMeanwhile) {
		// Changed since it was read, recorded already, or a receipt
		// waits: the way that reads it first tells which.
		asRead = false
		err = b.store.InTx(ctx, record)
	}
	if errors.Is(err, store.ErrReceiptWaits) {
		careful = true
		err = b.store.InTx(ctx, record)
	}
	if err == nil && kept != nil && kept.SID != nil {
		b.accepted.Put(*kept.SID, *kept)
	}
	if err == nil {
		b.metrics.SMS(string(SMSAccepted))
		for _, o := range outcomes {
			b.metrics.SMS(o)
		}
	}
	return err
}

// messageOnCase puts what became of message m on its case: the case's
// text-back status (when m is the text-back), the event by actor, and the
// timeline entry. m has a case.
func (b *Bot) messageOnCase(ctx context.Context, tx *store.Tx, m store.Message, textback string, now time.Time, event, actor string, data map[string]any, entry Entry) error {
	var status *string
	if m.Kind == "textback" {
		status = &textback
	}
	c := store.Case{ID: *m.CaseID}
	if err := tx.TouchCaseLater(ctx, c.ID, status, now); err != nil {
		return err
	}
	if err := tx.AddEvent(ctx, c.ID, now, event, actor, data); err != nil {
		return err
	}
	entry.CaseID = c.ID
	if err := b.timeline(ctx, tx, entry); err != nil {
		return err
	}
	if m.Kind == "textback" {
		// A first card held for this outcome goes now, showing it.
		return b.queueCard(ctx, tx, c, event, now, true)
	}
	return b.caseChanged(ctx, tx, c, event)
}

// textBackStatus is a text-back's state as its case shows it, with the
// provider's error code when it failed. The steps the provider reports on
// the way (accepted, queued, sending, sent) are one on the case, "sent",
// as on its card: the text keeps the step, and a receipt for the next step
// leaves the case as it is (receiptOnCase).
func textBackStatus(m store.Message) string {
	switch {
	case m.ErrorCode != "":
		return m.Status + " (error " + m.ErrorCode + ")"
	case smsOnItsWay(SMSState(m.Status)):
		return string(SMSSent)
	}
	return m.Status
}

// smsSettled records a message that will not be sent (or failed for good),
// with the reason on its case.
func (b *Bot) smsSettled(ctx context.Context, m store.Message, status SMSState, code, caseStatus, event string, data map[string]any) error {
	now := b.clock.Now()
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		m.Status, m.ErrorCode, m.UpdatedAt = string(status), code, now
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		if m.CaseID == nil {
			return nil
		}
		data["message_id"] = m.ID
		return b.messageOnCase(ctx, tx, m, caseStatus, now, event, "", data,
			Entry{Kind: EntryTextBack, Text: Plain(smsWords(m.Kind) + ": " + caseStatus)})
	})
	if err == nil {
		b.metrics.SMS(string(status))
	}
	return err
}

// outboxDead puts a side effect that gave up on its case's timeline.
func (b *Bot) outboxDead(ctx context.Context, it store.OutboxItem, err error) {
	if it.Kind == KindSMS {
		var job SMSJob
		if it.Decode(&job) == nil {
			if m, merr := b.store.MessageByID(ctx, job.MessageID); merr == nil && m.Status == string(SMSPending) {
				if serr := b.smsSettled(ctx, m, SMSFailed, "", "failed: "+err.Error(), "sms_failed", map[string]any{"error": err.Error(), "gave_up": true}); serr != nil {
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

// statusRank orders the states of a text so that a late receipt never
// moves a message backwards (delivered, then a delayed "sent").
func statusRank(s SMSState) int {
	switch s {
	case SMSPending:
		return 0
	case SMSAccepted, SMSScheduled, SMSQueued:
		return 1
	case SMSSending:
		return 2
	case SMSSent:
		return 3
	case SMSDelivered, SMSUndelivered, SMSFailed, SMSRead, SMSCanceled, SMSReceived:
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
	case "status":
		return "Status text"
	case "callback_confirm":
		return "Callback confirmation"
	}
	return "Text"
}
