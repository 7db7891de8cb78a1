package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"ringback/bot/optout"
	"ringback/config"
	"ringback/store"
)

// InboundSMS is a text a caller sent to a line.
type InboundSMS struct {
	SID       string // the provider's id: the idempotency key
	From, To  string
	Body      string
	MediaURLs []string
}

// SMSResult tells a handler what a text did.
type SMSResult struct {
	CaseID    int64
	Duplicate bool
	Action    string // opted_out, opted_in, help, reply, triaged, urgent, unrouted
}

// The provider (Twilio) answers these keywords itself, so Ringback sends no
// confirmation of its own for them.
var (
	optOutKeywords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true, "REVOKE": true, "OPTOUT": true}
	optInKeywords  = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
	helpKeywords   = map[string]bool{"HELP": true, "INFO": true}
	keywordTrim    = regexp.MustCompile(`^[\s\p{P}]+|[\s\p{P}]+$`)
)

// ReceiveSMS handles a caller's text: keywords, triage digits, or a reply
// that joins the caller's case. Idempotent on SID.
func (b *Bot) ReceiveSMS(ctx context.Context, in InboundSMS) (SMSResult, error) {
	if in.SID == "" {
		return SMSResult{}, fmt.Errorf("%w: message without id", ErrBadInput)
	}
	caller, err := b.callerNumber(in.From)
	if err != nil || caller == "" {
		return SMSResult{}, fmt.Errorf("%w: sender %q", ErrBadInput, in.From)
	}
	lineNum, err := b.lineNumber(in.To)
	if err != nil {
		return SMSResult{}, err
	}
	line, routed := b.line(lineNum)
	now := b.clock.Now()
	var res SMSResult
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		res = SMSResult{}
		sid := in.SID
		msg := store.Message{
			SID: &sid, Direction: store.Inbound, Kind: "reply", LineNumber: lineNum, CallerNumber: caller,
			Body: in.Body, MediaURLs: strings.Join(in.MediaURLs, "\n"), Status: string(SMSReceived), CreatedAt: now, UpdatedAt: now,
		}
		word := strings.ToUpper(keywordTrim.ReplaceAllString(in.Body, ""))
		verdict := optout.Classify(in.Body)
		switch {
		case optOutKeywords[word], optInKeywords[word], helpKeywords[word]:
			msg.Kind = "keyword"
		}
		// The open case the text belongs to, if any, before it is written.
		c, err := tx.LatestOpenCase(ctx, caller)
		hasCase := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if hasCase {
			msg.CaseID = &c.ID
		}
		inserted, err := tx.InsertMessage(ctx, &msg)
		if err != nil {
			return err
		}
		if !inserted {
			res.Duplicate = true
			return nil
		}
		switch {
		case optOutKeywords[word]:
			res.Action = "opted_out"
			return b.optOut(ctx, tx, optOutRequest{Caller: caller, Source: OptOutKeyword, Phrase: strings.ToLower(word), Message: msg.ID, Case: c, HasCase: hasCase, Line: line, At: now})
		case verdict.Outcome == optout.OptOut:
			res.Action = "opted_out"
			return b.optOut(ctx, tx, optOutRequest{Caller: caller, Source: OptOutPlain, Phrase: verdict.Phrase, Quote: in.Body, Message: msg.ID, Case: c, HasCase: hasCase, Line: line, At: now, Confirm: true})
		case optInKeywords[word]:
			res.Action = "opted_in"
			if _, err := tx.OptIn(ctx, caller); err != nil {
				return err
			}
			if hasCase {
				return b.caseEvent(ctx, tx, c, now, "opted_in", nil)
			}
			return nil
		case helpKeywords[word]:
			res.Action = "help"
			if !routed {
				return nil
			}
			return b.autoReply(ctx, tx, c, hasCase, caller, line, "help", "help", "help:"+in.SID)
		}
		if !routed && !hasCase {
			res.Action = "unrouted"
			b.log.Warn("text to a number that is no configured line", "line_number", lineNum, "message_sid", in.SID)
			return nil
		}
		if !hasCase {
			c, err = b.textedIn(ctx, tx, caller, line, now)
			if err != nil {
				return err
			}
			msg.CaseID = &c.ID
			if err := tx.UpdateMessageCase(ctx, msg.ID, c.ID); err != nil {
				return err
			}
		}
		res.CaseID = c.ID
		res.Action = "reply"
		if err := tx.AddEvent(ctx, c.ID, now, "sms_received", "", map[string]any{"message_id": msg.ID, "media": len(in.MediaURLs)}); err != nil {
			return err
		}
		quote := in.Body
		for _, u := range in.MediaURLs {
			quote += "\n" + u
		}
		if err := b.callerTexted(ctx, tx, c.ID, quote); err != nil {
			return err
		}
		if verdict.Outcome == optout.Ambiguous {
			res.Action = "possible_opt_out"
			if err := b.askOptOut(ctx, tx, c, msg, verdict); err != nil {
				return err
			}
		}
		caseLine, _ := b.line(c.LineNumber)
		if caseLine != nil {
			if cat, ok := caseLine.Triage[word]; ok {
				res.Action = "triaged"
				if err := b.triage(ctx, tx, &c, caseLine, cat, now); err != nil {
					return err
				}
				if c.Urgent {
					res.Action = "urgent"
					if err := b.autoReply(ctx, tx, c, true, caller, caseLine, "safety", safetyTemplate(b.cfg, cat), "safety:"+in.SID); err != nil {
						return err
					}
				}
			} else if did, err := b.autoTriage(ctx, tx, &c, caseLine, in.Body, "a text", "sms:"+in.SID); err != nil {
				return err
			} else if did != "" {
				res.Action = did
			}
		}
		c.UpdatedAt = now
		if err := tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		return b.caseChanged(ctx, tx, c, "sms_received")
	})
	return res, err
}

// textedIn opens a case for a caller who texted without a missed call.
func (b *Bot) textedIn(ctx context.Context, tx *store.Tx, caller string, line *config.Line, now time.Time) (store.Case, error) {
	c := store.Case{
		LineNumber: line.Number, CallerNumber: caller, State: store.CaseOpen, Origin: "sms",
		AfterHours: !line.InHours(now), CreatedAt: now, UpdatedAt: now, TextbackStatus: "not sent: the caller texted in",
	}
	if err := b.prepareCase(ctx, tx, &c); err != nil {
		return store.Case{}, err
	}
	pick, err := b.assignByRota(ctx, tx, &c, line, now)
	if err != nil {
		return store.Case{}, err
	}
	inserted, err := tx.InsertCase(ctx, &c)
	if err != nil {
		return store.Case{}, err
	}
	if !inserted {
		return tx.OpenCase(ctx, caller, line.Number)
	}
	if err := tx.AddEvent(ctx, c.ID, now, "case_opened", "", map[string]any{"origin": "sms", "spam": c.Spam}); err != nil {
		return store.Case{}, err
	}
	return c, b.caseOpened(ctx, tx, c, pick)
}

// triage sets the case's category from the caller's digit; an urgent
// category marks the case urgent at once.
func (b *Bot) triage(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, category string, now time.Time) error {
	cat, ok := b.cfg.Category(category)
	if !ok {
		return nil
	}
	e := Entry{Text: Plain("Caller chose " + cat.Label)}
	switch {
	case cat.Urgent && !c.Urgent:
		e.Text, e.Mention = Plain("URGENT: caller chose "+cat.Label), "channel"
	case cat.Urgent:
		// The channel was alerted when the case became urgent; a caller
		// pressing 9 again must not alert everyone again.
		e.Text = Plain("URGENT: caller chose " + cat.Label + " again (already alerted)")
	}
	return b.setCategory(ctx, tx, c, line, cat, now, "caller", nil, e)
}

// safetyTemplate picks the reply for an urgent category: "safety" unless a
// template limited to that category exists.
func safetyTemplate(cfg *config.Config, category string) string {
	return cfg.SafetyTemplate(category)
}

// caseEvent notes an event on a case and refreshes its card.
func (b *Bot) caseEvent(ctx context.Context, tx *store.Tx, c store.Case, now time.Time, kind string, data any) error {
	if err := tx.AddEvent(ctx, c.ID, now, kind, "", data); err != nil {
		return err
	}
	c.UpdatedAt = now
	if err := tx.UpdateCase(ctx, c); err != nil {
		return err
	}
	return b.caseChanged(ctx, tx, c, kind)
}

// SMSStatus records a delivery receipt. Receipts never move a message
// backwards; an unknown SID is reported, not an error.
func (b *Bot) SMSStatus(ctx context.Context, r SMSReceipt) (known bool, err error) {
	if r.SID == "" {
		return false, fmt.Errorf("%w: receipt without a message id", ErrBadInput)
	}
	now := b.clock.Now()
	// counted: a final receipt that moved its message, counted once committed.
	done, counted, err := b.receiptAsRead(ctx, r, now, true)
	if err != nil || done {
		if err == nil && counted != "" {
			b.metrics.SMS(counted)
		}
		return done, err
	}
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		counted = ""
		m, err := tx.LockedMessageBySID(ctx, r.SID)
		if errors.Is(err, store.ErrNotFound) {
			// The receipt may have beaten the provider's answer to the send:
			// keep it until the message's SID is recorded.
			return b.keepEarlyReceipt(ctx, tx, r, now)
		}
		if err != nil {
			return err
		}
		known = true
		counted = receiptOutcome(m, r)
		return b.applyReceipt(ctx, tx, m, r, now)
	})
	if err == nil && counted != "" {
		b.metrics.SMS(counted)
	}
	return known, err
}

// receiptAsRead applies r to its text as this process kept it (useKept,
// Bot.accepted) or else as a plain read finds it, when nothing else need be
// read: a text moving one step on (sent, delivered, read), as nearly every
// receipt does. Its writes are made in the statement that commits them (on
// PostgreSQL one statement for a kept text, two for one read, no
// transaction held open), on the condition that the text is still as kept
// or read (store.Tx.UpdateMessageAsRead). done is false when r must be
// applied under the SID's lock instead: its text is not found (it may be
// on its way), r is a failure (which reads the case and the contacts), or
// the text read changed before the write.
func (b *Bot) receiptAsRead(ctx context.Context, r SMSReceipt, now time.Time, useKept bool) (done bool, counted string, err error) {
	if r.Failed() {
		return false, "", nil
	}
	// A copy this receipt would not move on is read instead: the database
	// may hold the text further along than the copy.
	var m store.Message
	kept := false
	if useKept {
		m, kept = b.accepted.Get(r.SID)
		kept = kept && receiptAdvances(SMSState(m.Status), r.State)
	}
	if !kept {
		m, err = b.store.ReadMessageBySID(ctx, r.SID)
		if errors.Is(err, store.ErrNotFound) {
			return false, "", nil
		}
		if err != nil {
			return false, "", err
		}
	}
	if !receiptAdvances(SMSState(m.Status), r.State) {
		return true, "", nil // statuses only move on: under the lock it would not either
	}
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		// A text moved on but not failed: lost with the database, the
		// receipt is made good by asking Twilio once it is overdue
		// (AskReceipts), so its commit need not wait for the disk.
		tx.CommitLazily()
		return b.applyReceipt(ctx, tx, m, r, now)
	})
	if errors.Is(err, store.ErrChangedMeanwhile) {
		if kept {
			// Moved on elsewhere since it was kept: read it (once; a
			// concurrent receipt may keep a copy again meanwhile).
			b.accepted.Delete(r.SID)
			return b.receiptAsRead(ctx, r, now, false)
		}
		return false, "", nil
	}
	if err == nil {
		b.accepted.Put(r.SID, withReceipt(m, r, now))
	}
	return err == nil, receiptOutcome(m, r), err
}

// withReceipt is text m as receipt r, applied at now, leaves it.
func withReceipt(m store.Message, r SMSReceipt, now time.Time) store.Message {
	m.Status, m.UpdatedAt = string(r.State), now
	if r.Code != "" && r.Code != "0" {
		m.ErrorCode = r.Code
	}
	if smsFailed(r.State) {
		m.Problem = string(r.Problem)
	}
	return m
}

// applyReceipt records a delivery status on a message (never moving it
// backwards) and what it teaches about the number and the case.
func (b *Bot) applyReceipt(ctx context.Context, tx *store.Tx, m store.Message, r SMSReceipt, now time.Time) error {
	if !receiptAdvances(SMSState(m.Status), r.State) {
		return nil
	}
	before := m
	m = withReceipt(m, r, now)
	// Written with the commit, on the condition that the text is as read
	// (under the SID's lock it is; on a plain read it may not be).
	if err := tx.UpdateMessageAsRead(ctx, before, m); err != nil {
		return err
	}
	switch r.Problem {
	case SMSProblemNotTextable:
		if err := tx.MarkUntextable(ctx, m.CallerNumber, "error "+m.ErrorCode, now); err != nil {
			return err
		}
	case SMSProblemUnsubscribed:
		if _, err := tx.OptOut(ctx, m.CallerNumber, "provider_"+m.ErrorCode, now); err != nil {
			return err
		}
	}
	if m.CaseID == nil {
		return nil
	}
	return b.receiptOnCase(ctx, tx, before, m, now)
}
