package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
)

// CallOutcome is what a phone system's report says about a call, in
// Ringback's words.
type CallOutcome string

// Call outcomes.
const (
	// CallInProgress: ringing or being routed; nothing is decided yet.
	CallInProgress CallOutcome = "in_progress"
	// CallAnswered: a person took the call.
	CallAnswered CallOutcome = "answered"
	// CallMissed: no-answer, busy, failed or canceled.
	CallMissed CallOutcome = "missed"
	// CallVoicemail: the caller reached voicemail: missed.
	CallVoicemail CallOutcome = "voicemail"
	// CallEnded: the call is over and the report cannot say whether a person
	// answered (Twilio's "completed"); what Ringback routed decides.
	CallEnded CallOutcome = "ended"
)

// CallReport is one report about an inbound call.
type CallReport struct {
	Provider     string // twilio | generic | import
	SID          string // the provider's id of the call: the idempotency key
	From, To     string // as reported; normalised here
	Status       string // the provider's own status word, kept for the record
	Outcome      CallOutcome
	StartedAt    time.Time // zero: now; outside the believed window (ReportedTime): now
	Duration     int       // seconds, bounded to 0..MaxCallSeconds
	VoicemailURL string
	Transcript   string
	// Dialed: the report ends a <Dial> leg Ringback's routing placed
	// (Twilio's Dial action), not the caller's call itself.
	Dialed bool
}

// CallResult tells a handler what a report did.
type CallResult struct {
	CaseID  int64 // 0 when no case is involved
	NewCase bool
	Routed  bool // false: the number called is no configured line
	Missed  bool
}

// Call statuses Ringback writes itself while its TwiML routes a call.
const (
	statusRouteRing       = "routing:ring"
	statusRouteAfterHours = "routing:after_hours"
)

// ReportCall records a call event; a missed call opens or updates the
// caller's case and queues the text-back. Reports are idempotent on SID.
func (b *Bot) ReportCall(ctx context.Context, r CallReport) (CallResult, error) {
	// The first try reads as read (store.Tx.ReadCallReportAsRead): a new
	// case's intake is then one statement. One whose writes found things
	// changed runs again with the locking read, in a transaction, as many
	// times as before. A <Dial> leg's end is of a call Ringback's routing
	// recorded as it rang, which the first read would only find.
	res, err := b.reportCall(ctx, r, !r.Dialed)
	for try := 1; errors.Is(err, errRetry); try++ {
		if try > reportTries {
			return res, fmt.Errorf("bot: call %s: its row was still taken after %d tries: %w", r.SID, try, err)
		}
		res, err = b.reportCall(ctx, r, false)
	}
	return res, err
}

// reportTries bounds ReportCall's reruns. One rerun follows a concurrent
// report of the same call that inserted it first, and finds its row; a
// row that keeps conflicting yet cannot be read is a fault, not a race.
const reportTries = 3

// reportCall is one try of ReportCall, asRead or not (readReport):
// errRetry when a concurrent report inserted the call or opened the
// caller's case first, or texted the caller meanwhile.
func (b *Bot) reportCall(ctx context.Context, r CallReport, asRead bool) (CallResult, error) {
	if r.SID == "" {
		return CallResult{}, fmt.Errorf("%w: call without id", ErrBadInput)
	}
	lineNum, err := b.lineNumber(r.To)
	if err != nil {
		return CallResult{}, err
	}
	caller, err := b.callerNumber(r.From)
	if err != nil {
		return CallResult{}, err
	}
	now := b.clock.Now()
	r = b.sane(r, now)
	line, routed := b.line(lineNum)
	hint := lineNum + "\x00" + caller
	if asRead {
		if at, ok := b.openCases.Get(hint); ok && now.Sub(at) < openCaseFor {
			asRead = false // a call again: the read as read would find the case open
		}
	}
	var res CallResult
	var leftOpen bool
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		res, leftOpen = CallResult{Routed: routed}, false
		read, err := b.readReport(ctx, tx, r, caller, line, routed, asRead)
		if err != nil {
			return err
		}
		isNew := read.Call == nil
		var call store.Call
		if !isNew {
			call = *read.Call
		} else {
			call = store.Call{
				SID: r.SID, Provider: r.Provider, LineNumber: lineNum, Routed: routed, CallerNumber: caller,
				StartedAt: r.StartedAt, CreatedAt: now,
			}
			call.AfterHours = AfterHours(line, r.StartedAt)
		}
		wasMissed := call.Missed
		onCallMissed := b.onCallMissed(r, call, isNew, line)
		missed := b.missed(r.Outcome, call, isNew)
		call.Missed = wasMissed || missed
		if r.Status != "" && !(wasMissed && r.Outcome == CallEnded) {
			call.Status = r.Status
		}
		call.DurationS = max(call.DurationS, r.Duration)
		if r.VoicemailURL != "" {
			call.VoicemailURL = r.VoicemailURL
		}
		if r.Transcript != "" {
			call.Transcript = r.Transcript
		}
		call.UpdatedAt = now
		res.Missed = call.Missed

		switch {
		case call.Missed && !wasMissed && routed:
			c, opened, err := b.missedCall(ctx, tx, call, line, now, read)
			if err != nil {
				return err
			}
			leftOpen = caller != ""
			if onCallMissed {
				if err := b.onCallUnanswered(ctx, tx, c.ID, call.SID, line, now); err != nil {
					return err
				}
			}
			call.CaseID = &c.ID
			res.CaseID, res.NewCase = c.ID, opened
		case call.Missed && call.CaseID != nil && (r.VoicemailURL != "" || r.Transcript != ""):
			res.CaseID = *call.CaseID
			if err := b.attachVoicemail(ctx, tx, *call.CaseID, call, now); err != nil {
				return err
			}
		case call.Missed && !wasMissed:
			b.log.Warn("missed call to a number that is no configured line", "line_number", lineNum, "call_sid", r.SID)
		case r.Outcome == CallAnswered && routed && caller != "":
			if err := b.answered(ctx, tx, caller, lineNum, now); err != nil {
				return err
			}
		}
		if call.CaseID != nil {
			res.CaseID = *call.CaseID
		}
		if !isNew {
			return tx.UpdateCall(ctx, call)
		}
		// A new call is written once, with its case, at the commit: if a
		// concurrent report of the same call wrote it first, what this one
		// did rolls back (store.ErrDuplicate) and runs again against it.
		return tx.InsertCallLater(ctx, call)
	})
	if errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrChangedMeanwhile) {
		return res, fmt.Errorf("%w: %w", errRetry, err)
	}
	if err == nil && leftOpen {
		b.openCases.Put(hint, now)
	}
	return res, err
}

// errRetry asks ReportCall to run its transaction again.
var errRetry = errors.New("bot: retry")

// missed decides whether this report makes the call a missed one.
func (b *Bot) missed(o CallOutcome, call store.Call, isNew bool) bool {
	if o.Missed() {
		return true
	}
	// Over, and nobody reported it answered: if Ringback's own routing was
	// still ringing staff or playing the after-hours menu, nobody did.
	return o == CallEnded && !isNew && strings.HasPrefix(call.Status, "routing:")
}

// missedCall opens the caller's case, or counts the call on the open one.
// A new case is written once, with what is known by then (contact, spam,
// rota owner, text-back status).
func (b *Bot) missedCall(ctx context.Context, tx *store.Tx, call store.Call, line *config.Line, now time.Time, read store.CallReading) (store.Case, bool, error) {
	c := store.Case{
		LineNumber:   line.Number,
		CallerNumber: call.CallerNumber,
		State:        store.CaseOpen,
		Origin:       "call",
		AfterHours:   call.AfterHours,
		CallCount:    1,
		LastCallAt:   &call.StartedAt,
		VoicemailURL: call.VoicemailURL,
		Transcript:   call.Transcript,
		CreatedAt:    call.StartedAt,
		UpdatedAt:    now,
	}
	var facts store.CallerFacts
	if call.CallerNumber != "" {
		if !read.Opens {
			// Not read with the call (a report that did not say missed):
			// the caller's lock first where the line needs it.
			if line.TextBack.Cooldown > 0 {
				if err := tx.LockCaller(ctx, call.CallerNumber); err != nil {
					return store.Case{}, false, err
				}
			}
			var err error
			if read.Open, read.Previous, read.Facts, err = tx.CallerCaseFacts(ctx, call.CallerNumber, line.Number); err != nil {
				return store.Case{}, false, err
			}
		}
		if open := read.Open; open != nil {
			return *open, false, b.repeatCall(ctx, tx, *open, call, now)
		}
		c.PreviousCaseID, facts = read.Previous, read.Facts
		applyFacts(&c, facts)
	}
	pick, err := b.assignByRota(ctx, tx, &c, line, now)
	if err != nil {
		return store.Case{}, false, err
	}
	b.setDue(&c)
	plan, err := b.planTextBack(ctx, tx, &c, line, facts, now)
	if err != nil {
		return store.Case{}, false, err
	}
	inserted := true
	if c.ID = facts.IDs.Case; c.ID != 0 {
		// Written at the commit: another call from the same number that
		// opened a case meanwhile fails it, and the report runs again.
		err = tx.InsertCaseLater(ctx, c)
	} else {
		inserted, err = tx.InsertCase(ctx, &c)
	}
	if err != nil {
		return store.Case{}, false, err
	}
	if !inserted {
		// Another call from the same number opened the case a moment ago.
		c, err := tx.OpenCase(ctx, call.CallerNumber, line.Number)
		if err != nil {
			return store.Case{}, false, err
		}
		return c, false, b.repeatCall(ctx, tx, c, call, now)
	}
	if err := tx.AddEvent(ctx, c.ID, now, "case_opened", "", map[string]any{
		"origin": "call", "call_sid": call.SID, "after_hours": c.AfterHours, "spam": c.Spam, "previous_case": c.PreviousCaseID,
	}); err != nil {
		return store.Case{}, false, err
	}
	if call.VoicemailURL != "" || call.Transcript != "" {
		if err := tx.AddEvent(ctx, c.ID, now, "voicemail", "", map[string]any{"url": call.VoicemailURL, "transcript": call.Transcript}); err != nil {
			return store.Case{}, false, err
		}
	}
	if err := b.queueTextBack(ctx, tx, c, line, plan, facts, now); err != nil {
		return store.Case{}, false, err
	}
	if err := b.caseOpened(ctx, tx, c, pick); err != nil {
		return store.Case{}, false, err
	}
	// Saves the case itself when the transcript triaged it.
	if err := b.autoTriageCall(ctx, tx, &c, call); err != nil {
		return store.Case{}, false, err
	}
	var cardAt time.Time
	if plan.why == "" && line.TextBack.Delay == 0 && b.texter != nil {
		// Only for a text that can go now: without an SMS provider the
		// text waits for one, and the card would wait for nothing.
		cardAt = now.Add(textBackCardHold) // or sooner: the text-back's outcome pulls it
	}
	return c, true, b.queueCard(ctx, tx, c, cardOpened, cardAt, false)
}

// readReport reads the reported call and, when the report says the call
// was missed on a line, what opening the caller's case needs, in one
// statement (store.ReadCallReport). On a line with a text-back cooldown
// the same statement first takes the caller's lock, which the transaction
// then holds while it opens a case and decides its text-back: two calls at
// once from one caller (both lines, two replicas) decide one after the
// other. The second read the first's text-back as it was before the lock,
// so its decision to text is checked at its commit (GuardTextBack).
// asRead, a missed call's report first reads outside the transaction,
// locking nothing (store.Tx.ReadCallReportAsRead): for a new call from a
// caller with no open case the transaction then sends one statement, its
// writes, which check what was read; otherwise it reads as above.
func (b *Bot) readReport(ctx context.Context, tx *store.Tx, r CallReport, caller string, line *config.Line, routed, asRead bool) (store.CallReading, error) {
	lock := line != nil && line.TextBack.Cooldown > 0 && caller != ""
	opens := routed && caller != "" && r.Outcome.Missed()
	number := ""
	if line != nil {
		number = line.Number
	}
	if asRead && opens {
		read, ok, err := tx.ReadCallReportAsRead(ctx, r.SID, caller, number, lock)
		if ok || err != nil {
			return read, err
		}
	}
	return tx.ReadCallReport(ctx, r.SID, caller, number, lock, opens)
}

// applyFacts fills what a new case learns from what Ringback knows of its
// caller: contact and spam list.
func applyFacts(c *store.Case, f store.CallerFacts) {
	if f.Contact != nil {
		c.ContactID = &f.Contact.ID
	}
	c.Spam = f.Spam
}

// caseOpened starts a new case's escalation schedule and notes a rota
// assignment on its timeline.
func (b *Bot) caseOpened(ctx context.Context, tx *store.Tx, c store.Case, pick rotaPick) error {
	if err := b.startEscalation(ctx, tx, c); err != nil {
		return err
	}
	if e, ok := rotaEntry(c.ID, pick); ok {
		return b.timeline(ctx, tx, e)
	}
	return nil
}

// prepareCase fills what a new case learns from what Ringback knows of the
// caller: contact, spam list, the previous case.
func (b *Bot) prepareCase(ctx context.Context, tx *store.Tx, c *store.Case) error {
	b.setDue(c)
	if c.CallerNumber == "" {
		return nil
	}
	facts, err := tx.CallerFacts(ctx, c.CallerNumber)
	if err != nil {
		return err
	}
	applyFacts(c, facts)
	if prev, err := tx.LatestCase(ctx, c.CallerNumber, c.LineNumber); err == nil {
		c.PreviousCaseID = &prev.ID
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// repeatCall counts another missed call on an open case: no second case,
// no second text-back.
func (b *Bot) repeatCall(ctx context.Context, tx *store.Tx, c store.Case, call store.Call, now time.Time) error {
	c.CallCount++
	if c.LastCallAt == nil || call.StartedAt.After(*c.LastCallAt) {
		c.LastCallAt = &call.StartedAt
	}
	if err := b.saveVoicemail(ctx, tx, &c, call, now, "call_repeat", map[string]any{"call_sid": call.SID, "calls": c.CallCount}); err != nil {
		return err
	}
	if err := b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryRepeat, Text: Plainf("Caller rang again (%d calls)", c.CallCount)}); err != nil {
		return err
	}
	if err := b.autoTriageCall(ctx, tx, &c, call); err != nil {
		return err
	}
	return b.caseChanged(ctx, tx, c, "repeat_call")
}

// saveVoicemail puts the call's recording and transcript, those it has, on
// its case, saves the case and records the event kind with data.
func (b *Bot) saveVoicemail(ctx context.Context, tx *store.Tx, c *store.Case, call store.Call, now time.Time, kind string, data map[string]any) error {
	if call.VoicemailURL != "" {
		c.VoicemailURL = call.VoicemailURL
	}
	if call.Transcript != "" {
		c.Transcript = call.Transcript
	}
	c.UpdatedAt = now
	if err := tx.UpdateCase(ctx, *c); err != nil {
		return err
	}
	return tx.AddEvent(ctx, c.ID, now, kind, "", data)
}

// attachVoicemail puts a recording or transcript that arrived after the
// call on its case.
func (b *Bot) attachVoicemail(ctx context.Context, tx *store.Tx, caseID int64, call store.Call, now time.Time) error {
	c, err := tx.LockCase(ctx, caseID)
	if err != nil {
		return err
	}
	if err := b.saveVoicemail(ctx, tx, &c, call, now, "voicemail", map[string]any{"url": call.VoicemailURL, "transcript": call.Transcript}); err != nil {
		return err
	}
	if call.Transcript != "" {
		if err := b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryVoicemail, Text: Plain("Voicemail transcript"), Quote: call.Transcript}); err != nil {
			return err
		}
	}
	if err := b.autoTriageCall(ctx, tx, &c, call); err != nil {
		return err
	}
	return b.caseChanged(ctx, tx, c, "voicemail")
}

// answered handles a caller's call that a person took: a delayed text-back
// still waiting for the caller's open case is no longer wanted.
func (b *Bot) answered(ctx context.Context, tx *store.Tx, caller, lineNum string, now time.Time) error {
	c, err := tx.OpenCase(ctx, caller, lineNum)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	canceled, err := tx.CancelOutbox(ctx, textBackKey(c.ID), now, "the caller's next call was answered")
	if err != nil || !canceled {
		return err
	}
	c.TextbackStatus = "not sent: the caller's next call was answered"
	c.UpdatedAt = now
	if err := tx.UpdateCase(ctx, c); err != nil {
		return err
	}
	if err := tx.AddEvent(ctx, c.ID, now, "textback_canceled", "", map[string]any{"reason": "call answered"}); err != nil {
		return err
	}
	return b.caseChanged(ctx, tx, c, "textback_canceled")
}

// caseChanged queues the chat card's refresh on every chat platform. Every
// change gets a row of its own; adapters skip a refresh that a newer one
// waiting behind it makes redundant.
func (b *Bot) caseChanged(ctx context.Context, tx *store.Tx, c store.Case, why string) error {
	return b.queueCard(ctx, tx, c, why, time.Time{}, false)
}

// textBackCardHold is how long a new case's first card waits for the
// text-back queued with it to be taken or refused: the card is then posted
// once, showing how the text-back went, instead of posted and edited a
// moment later. A slow or failing provider holds it no longer than this.
const textBackCardHold = time.Second

// queueCard queues the case's card for rendering on every chat at runAt
// (zero: now). With coalesce, a card row of the case that waits unclaimed
// (the first card, held for its text-back) renders this change instead,
// at once. A row due now, written (a plain refresh, while the lane has
// slots to spare: Worker.HandoffSpare) or pulled forward (Worker.Handoff),
// is handed to the local worker as this transaction commits, with no
// claim and no wake-up round; one that finds an earlier row of its case's
// card still to run waits behind it (store.CardSlot.Behind).
func (b *Bot) queueCard(ctx context.Context, tx *store.Tx, c store.Case, why string, runAt time.Time, coalesce bool) error {
	// The case stays locked till the commit, so that a card's first post,
	// rendered after it, shows this change (store.ReserveCard).
	if err := tx.LockCaseOnce(ctx, c.ID); err != nil {
		return err
	}
	nonce := newNonce()
	now := b.clock.Now()
	for _, chat := range b.chats {
		kind := KindCard + "." + chat
		var handoff *store.OutboxHandoff
		if w := b.worker.Load(); w != nil && !runAt.After(now) && w.Handles(kind) {
			if coalesce {
				handoff = w.Handoff(store.OutboxLane(kind), nil)
			} else {
				handoff = w.HandoffSpare(store.OutboxLane(kind))
			}
		}
		err := tx.EnqueueLater(store.NewOutbox{
			Kind:      kind,
			DedupeKey: fmt.Sprintf("card:%s:%d:%s", chat, c.ID, nonce),
			Payload:   CardJob{CaseID: c.ID, Why: why},
			CaseID:    c.ID,
			RunAt:     runAt,
			Coalesce:  coalesce,
			Handoff:   handoff,
		}, now)
		if err != nil {
			return err
		}
	}
	return nil
}

// cardOpened is the Why of a new case's first card row: the one row that
// expects to post the card rather than refresh it.
const cardOpened = "opened"

// CardJob asks a chat adapter to post or refresh a case's card.
type CardJob struct {
	CaseID int64  `json:"case_id"`
	Why    string `json:"why"`
}

// Outbox kinds the bot writes.
const (
	KindSMS  = "sms.send"
	KindCard = "chat.card" // + "." + platform
)
