package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"ringback/bot"
)

// Texter lets the bot send texts and list calls through Twilio, translating
// Twilio's statuses and refusals into the bot's words.
type Texter struct{ c *Client }

// NewTexter wraps c for the bot.
func NewTexter(c *Client) *Texter { return &Texter{c} }

func (t *Texter) SendSMS(ctx context.Context, m bot.OutgoingSMS) (bot.SentSMS, error) {
	sent, err := t.c.Send(ctx, Message{
		From: m.From, MessagingServiceSID: m.MessagingServiceSID, To: m.To, Body: m.Body, StatusCallback: m.StatusCallback,
	})
	if err == nil {
		return bot.SentSMS{SID: sent.SID, Status: acceptedState(sent.Status)}, nil
	}
	return bot.SentSMS{}, smsError(err)
}

// clockSkew is how far Twilio's clock may be behind ours when FindSMS looks
// for texts accepted since an attempt began.
const clockSkew = 2 * time.Minute

func (t *Texter) FindSMS(ctx context.Context, m bot.OutgoingSMS, since time.Time) ([]bot.SentSMS, error) {
	from := m.From
	if m.MessagingServiceSID != "" {
		from = "" // Twilio picks the sender from the service's numbers
	}
	listed, err := t.c.OutgoingSince(ctx, m.To, from, since.Add(-clockSkew))
	if err != nil {
		return nil, smsError(err)
	}
	var found []bot.SentSMS
	// Listed newest first; the bot wants the oldest first.
	for i := len(listed) - 1; i >= 0; i-- {
		l := listed[i]
		if l.Body != m.Body || m.MessagingServiceSID != "" && l.MessagingServiceSID != m.MessagingServiceSID {
			continue
		}
		sent := bot.SentSMS{SID: l.SID, Status: acceptedState(l.Status)}
		if l.ErrorCode != 0 {
			sent.Problem, sent.Code = problem(l.ErrorCode), strconv.Itoa(l.ErrorCode)
		}
		found = append(found, sent)
	}
	return found, nil
}

// AskReceipt asks Twilio where text sid stands, in a receipt's words.
func (t *Texter) AskReceipt(ctx context.Context, sid string) (bot.SMSReceipt, error) {
	status, code, err := t.c.MessageStatus(ctx, sid)
	var te *Error
	if errors.As(err, &te) && te.HTTPStatus == http.StatusNotFound {
		return bot.SMSReceipt{}, fmt.Errorf("%w: %s: %w", bot.ErrTextUnknown, sid, err)
	}
	if err != nil {
		return bot.SMSReceipt{}, smsError(err)
	}
	r := bot.SMSReceipt{SID: sid, State: messageState(status)}
	if code != 0 {
		r.Code, r.Problem = strconv.Itoa(code), problem(code)
	}
	return r, nil
}

// smsError classifies a failed request for the bot.
func smsError(err error) error {
	se := &bot.SMSError{Temporary: Temporary(err), Refused: Refused(err), Err: err}
	var te *Error
	if errors.As(err, &te) {
		se.Code, se.RetryAfter, se.Problem = te.Code, te.RetryAfter, problem(te.Code)
	}
	return se
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
