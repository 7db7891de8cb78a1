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

// planTextBack decides whether a new case's caller gets the automatic text,
// and queues it (after the line's delay) or notes on the case why not.
func (b *Bot) planTextBack(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, now time.Time) error {
	why, err := b.whyNoTextBack(ctx, tx, *c, line, now)
	if err != nil {
		return err
	}
	key, err := textBackTemplate(ctx, tx, *c, line)
	if err != nil {
		return err
	}
	var body string
	if why == "" {
		t, err := tx.ApprovedTemplate(ctx, key)
		if err != nil {
			return err
		}
		body, err = templates.Render(t.Text, b.vars(ctx, tx, *c, line))
		if err != nil {
			why = fmt.Sprintf("template %s cannot be filled: %v", key, err)
		}
	}
	if why != "" {
		c.TextbackStatus = "not sent: " + why
		return tx.AddEvent(ctx, c.ID, now, "textback_skipped", "", map[string]string{"reason": why})
	}
	_, err = b.queueSMS(ctx, tx, *c, line, outgoing{Kind: "textback", Body: body, TemplateKey: key},
		textBackKey(c.ID), now.Add(line.TextBack.Delay))
	if err != nil {
		return err
	}
	c.TextbackStatus = "queued"
	return nil
}

// whyNoTextBack is "" when the caller may be texted, else the reason not.
func (b *Bot) whyNoTextBack(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, now time.Time) (string, error) {
	if c.Withheld() {
		return "number withheld", nil
	}
	if c.Spam {
		return "number on the spam list", nil
	}
	if why, err := b.whyNotTextable(ctx, tx, c.CallerNumber); why != "" || err != nil {
		return why, err
	}
	key, err := textBackTemplate(ctx, tx, c, line)
	if err != nil {
		return "", err
	}
	if key == "" {
		if c.AfterHours {
			return "the line sends no text-back after hours", nil
		}
		return "the line sends no text-back in hours", nil
	}
	cooldown := line.TextBack.Cooldown
	if cooldown > 0 {
		// Two calls from one caller at once (both lines, two replicas) must
		// not both find no recent text-back: the second waits for the first.
		if err := tx.LockCaller(ctx, c.CallerNumber); err != nil {
			return "", err
		}
		last, err := tx.LastTextBack(ctx, c.CallerNumber)
		if err != nil {
			return "", err
		}
		if !last.IsZero() && now.Sub(last) < cooldown {
			return fmt.Sprintf("texted %s ago (cooldown %s)", now.Sub(last).Round(time.Minute), cooldown), nil
		}
	}
	return "", nil
}

// whyNotTextable is "" when number may receive SMS at all.
func (b *Bot) whyNotTextable(ctx context.Context, q interface {
	IsOptedOut(context.Context, string) (bool, error)
	Untextable(context.Context, string) (string, error)
}, number string) (string, error) {
	out, err := q.IsOptedOut(ctx, number)
	if err != nil {
		return "", err
	}
	if out {
		return "the caller opted out of texts", nil
	}
	reason, err := q.Untextable(ctx, number)
	if err != nil {
		return "", err
	}
	if reason != "" {
		return "the number cannot receive texts (" + reason + ")", nil
	}
	return "", nil
}

// outgoing is an SMS to queue.
type outgoing struct {
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
}

// queueSMS writes the message and the outbox row that sends it, in tx.
func (b *Bot) queueSMS(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, o outgoing, key string, runAt time.Time) (store.Message, error) {
	now := b.clock.Now()
	m := store.Message{
		Direction: store.Outbound, Kind: o.Kind, LineNumber: line.Number, CallerNumber: c.CallerNumber,
		Body: o.Body, TemplateKey: o.TemplateKey, SentBy: o.SentBy, Status: "pending", CreatedAt: now, UpdatedAt: now,
	}
	if c.ID != 0 {
		m.CaseID = &c.ID
	}
	if _, err := tx.InsertMessage(ctx, &m); err != nil {
		return store.Message{}, err
	}
	_, _, err := tx.Enqueue(ctx, store.NewOutbox{
		Kind: KindSMS, DedupeKey: key, Payload: SMSJob{MessageID: m.ID, Force: o.Force, Scheduled: o.Scheduled, NotAfter: o.NotAfter}, CaseID: c.ID, RunAt: runAt,
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
