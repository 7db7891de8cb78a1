package sms

import (
	"context"
	"errors"
	"time"

	"ringback/bot"
)

// Texter lets the bot send and list calls through Twilio, translating
// Twilio's refusals into the bot's words.
type Texter struct{ c *Client }

// NewTexter wraps c for the bot.
func NewTexter(c *Client) *Texter { return &Texter{c} }

func (t *Texter) SendSMS(ctx context.Context, m bot.OutgoingSMS) (bot.SentSMS, error) {
	sent, err := t.c.Send(ctx, Message{
		From: m.From, MessagingServiceSID: m.MessagingServiceSID, To: m.To, Body: m.Body, StatusCallback: m.StatusCallback,
	})
	if err == nil {
		return bot.SentSMS{SID: sent.SID, Status: sent.Status}, nil
	}
	se := &bot.SMSError{Temporary: Temporary(err), Err: err}
	var te *Error
	if errors.As(err, &te) {
		se.Code, se.RetryAfter = te.Code, te.RetryAfter
		switch te.Code {
		case CodeUnsubscribed:
			se.Refusal = bot.RefusedUnsubscribed
		case CodeNotMobile, CodeLandline:
			se.Refusal = bot.RefusedNotTextable
		}
	}
	return bot.SentSMS{}, se
}

// RecentCalls lists a line's recent calls for the reconciler.
func (t *Texter) RecentCalls(ctx context.Context, to string, since time.Time) ([]bot.ListedCall, error) {
	calls, err := t.c.RecentCalls(ctx, to, since)
	if err != nil {
		return nil, err
	}
	out := make([]bot.ListedCall, 0, len(calls))
	for _, c := range calls {
		if c.ParentSID != "" {
			continue // a leg Ringback dialled to staff, not the caller's call
		}
		out = append(out, bot.ListedCall{SID: c.SID, From: c.From, To: c.To, Status: c.Status, Direction: c.Direction, StartTime: c.StartTime, Duration: c.Duration})
	}
	return out, nil
}
