package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ringback/config"
	"ringback/store"
	"ringback/templates"
)

func textBackKey(caseID int64) string { return fmt.Sprintf("textback:%d", caseID) }

// textBack is what planTextBack decided for a new case.
type textBack struct {
	why  string // "": send it
	key  string // the template
	text string // its approved text, when sent
}

// planTextBack decides, before a new case is written, whether its caller
// gets the automatic text, and gives the case its text-back status.
func (b *Bot) planTextBack(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, facts store.CallerFacts, now time.Time) (textBack, error) {
	key, err := textBackTemplate(ctx, tx, *c, line)
	if err != nil {
		return textBack{}, err
	}
	p := textBack{why: b.whyNoTextBack(*c, line, key, facts, now), key: key}
	if p.why == "" {
		t, err := tx.ApprovedTemplateAt(ctx, p.key, facts.Templates)
		if err != nil {
			return p, err
		}
		p.text = b.linkless(t.Text)
		// Whether it can be filled does not depend on the case's number,
		// which the case gets when written.
		vars := b.previewCallbackLink(b.vars(ctx, knownContact{facts.Contact}, *c, line))
		if _, err := templates.Render(p.text, vars); err != nil {
			p.why = fmt.Sprintf("template %s cannot be filled: %v", p.key, err)
		}
	}
	// Not handed to the provider yet; once it is, the case says "sent"
	// until the text arrives or fails (textBackStatus).
	c.TextbackStatus = string(SMSPending)
	if p.why != "" {
		c.TextbackStatus = "not sent: " + p.why
	}
	return p, nil
}

// queueTextBack carries out planTextBack's decision for the written case c:
// it queues the text (after the line's delay) or records why not.
func (b *Bot) queueTextBack(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, p textBack, facts store.CallerFacts, now time.Time) error {
	if p.why != "" {
		return tx.AddEvent(ctx, c.ID, now, "textback_skipped", "", map[string]string{"reason": p.why})
	}
	vars := b.vars(ctx, knownContact{facts.Contact}, c, line)
	if err := b.callbackVars(ctx, tx, c, line, p.text, vars, now); err != nil {
		return err
	}
	body, err := templates.Render(p.text, vars)
	if err != nil {
		return fmt.Errorf("bot: text-back of case %d: %w", c.ID, err)
	}
	m, err := b.queueSMS(ctx, tx, c, line, outgoing{ID: facts.IDs.Message, Kind: "textback", Body: body, TemplateKey: p.key, Textable: true},
		textBackKey(c.ID), now.Add(line.TextBack.Delay))
	if err == nil && facts.BeforeLock && line.TextBack.Cooldown > 0 {
		// The cooldown was judged on facts read before the caller's lock.
		tx.GuardTextBack(c.CallerNumber, now.Add(-line.TextBack.Cooldown), m.ID)
	}
	return err
}

// knownContact serves vars the caller's contact read with CallerFacts.
type knownContact struct{ contact *store.Contact }

func (k knownContact) ContactByID(_ context.Context, id int64) (store.Contact, error) {
	if k.contact == nil || k.contact.ID != id {
		return store.Contact{}, fmt.Errorf("bot: contact %d: %w", id, store.ErrNotFound)
	}
	return *k.contact, nil
}

// whyNoTextBack is "" when the caller may be texted, else the reason not.
func (b *Bot) whyNoTextBack(c store.Case, line *config.Line, key string, facts store.CallerFacts, now time.Time) string {
	if c.Withheld() {
		return "number withheld"
	}
	if c.Spam {
		return "number on the spam list"
	}
	if why := notTextable(facts.OptedOut, facts.Untextable); why != "" {
		return why
	}
	if key == "" {
		if c.AfterHours {
			return "the line sends no text-back after hours"
		}
		return "the line sends no text-back in hours"
	}
	if cooldown, last := line.TextBack.Cooldown, facts.LastTextBack; cooldown > 0 && !last.IsZero() && now.Sub(last) < cooldown {
		return fmt.Sprintf("texted %s ago (cooldown %s)", now.Sub(last).Round(time.Minute), cooldown)
	}
	return ""
}

// whyNotTextable is "" when number may receive SMS at all.
func (b *Bot) whyNotTextable(ctx context.Context, q interface {
	Textable(context.Context, string) (bool, string, error)
}, number string) (string, error) {
	out, reason, err := q.Textable(ctx, number)
	if err != nil {
		return "", err
	}
	return notTextable(out, reason), nil
}

// notTextable words why a number may not be texted ("" when it may).
func notTextable(optedOut bool, untextable string) string {
	if optedOut {
		return "the caller opted out of texts"
	}
	if untextable != "" {
		return "the number cannot receive texts (" + untextable + ")"
	}
	return ""
}

// outgoing is an SMS to queue.
type outgoing struct {
	ID          int64  // drawn beforehand (store.NewCaseIDs), or 0
	Kind        string // textback, template, safety, help, optout_confirm
	Body        string
	TemplateKey string
	SentBy      string
	// Force sends even to an opted-out number: only the one confirmation
	// of a plain-language opt-out.
	Force bool
	// Scheduled: a staff reply held for the caller's window (quiet hours).
	Scheduled bool
	// NotAfter, when set, is when the text is too late to send at all.
	NotAfter time.Time
	// Textable: the transaction has just found that the number may be
	// texted (not opted out, able to receive SMS), so a text due now can
	// be handed to the local sender as it is written, with what its send
	// reads (Worker.Handoff).
	Textable bool
}

// queueSMS writes the message and the outbox row that sends it, in tx.
func (b *Bot) queueSMS(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, o outgoing, key string, runAt time.Time) (store.Message, error) {
	now := b.clock.Now()
	m := store.Message{
		ID:        o.ID,
		Direction: store.Outbound, Kind: o.Kind, LineNumber: line.Number, CallerNumber: c.CallerNumber,
		Body: o.Body, TemplateKey: o.TemplateKey, SentBy: o.SentBy, Status: "pending", CreatedAt: now, UpdatedAt: now,
	}
	if c.ID != 0 {
		m.CaseID = &c.ID
	}
	var handoff *store.OutboxHandoff
	if w := b.worker.Load(); w != nil && o.Textable && !o.Force && !o.Scheduled && o.NotAfter.IsZero() && !runAt.After(now) && b.texter != nil {
		// The send's start is written with the message, as a claim would
		// record it (the wall clock: FindSMS compares it with Twilio's).
		startAt := time.Now().UTC().Truncate(time.Microsecond)
		handoff = w.Handoff(store.LaneSMS, func(it *store.OutboxItem) {
			it.Sending = &store.MessageSending{Message: m, StartAt: startAt}
		})
		if handoff != nil {
			m.SendStartedAt = &startAt
		}
	}
	if _, err := tx.InsertMessage(ctx, &m); err != nil {
		if handoff != nil {
			handoff.Cancel()
		}
		return store.Message{}, err
	}
	err := tx.EnqueueLater(store.NewOutbox{
		Kind: KindSMS, DedupeKey: key, Payload: SMSJob{MessageID: m.ID, Force: o.Force, Scheduled: o.Scheduled, NotAfter: o.NotAfter}, CaseID: c.ID, RunAt: runAt,
		Handoff: handoff,
	}, now)
	return m, err
}

// SMSJob is the outbox payload of an SMS.
type SMSJob struct {
	MessageID int64 `json:"message_id"`
	Force     bool  `json:"force,omitempty"`
	// Scheduled marks a staff reply held for the caller's window: it goes
	// only inside it and counts as human contact once the provider takes it.
	Scheduled bool `json:"scheduled,omitempty"`
	// NotAfter is when the text is too late to send (zero: never): an
	// opt-out confirmation must leave within 5 minutes of the request.
	NotAfter time.Time `json:"not_after,omitzero"`
}

var errNoTexter = errors.New("bot: no SMS provider configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)")
