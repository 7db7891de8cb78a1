package sms

import (
	"context"
	"strconv"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"ringback/bot"
)

// ChildCalls lists the legs a call dialled (its <Dial> to staff phones):
// Twilio's Calls list filtered by ParentCallSid, all pages.
func (c *Client) ChildCalls(ctx context.Context, parentSID string) ([]Call, error) {
	p := &openapi.ListCallParams{}
	p.SetParentCallSid(parentSID)
	recs, err := c.listCalls(ctx, p, "list call legs")
	if err != nil {
		return nil, err
	}
	calls := make([]Call, 0, len(recs))
	for _, r := range recs {
		call := callOf(r)
		call.Duration, _ = strconv.Atoi(deref(r.Duration))
		calls = append(calls, call)
	}
	return calls, nil
}

// listCalls reads every page of Twilio's Calls list that p filters; what
// names the listing in its error.
func (c *Client) listCalls(ctx context.Context, p *openapi.ListCallParams, what string) ([]openapi.ApiV2010Call, error) {
	api, ex, err := c.api(ctx)
	if err != nil {
		return nil, err
	}
	p.SetPageSize(callsPageSize)
	recs, err := api.ListCall(p)
	if err != nil {
		return nil, ex.fail(what, err)
	}
	return recs, nil
}

// callOf is a call record's identity, numbers and state; its times are
// read by each listing as it needs them.
func callOf(r openapi.ApiV2010Call) Call {
	return Call{
		SID:       deref(r.Sid),
		ParentSID: deref(r.ParentCallSid),
		From:      deref(r.From),
		To:        deref(r.To),
		Status:    deref(r.Status),
		Direction: deref(r.Direction),
	}
}

// CallLegs lists the legs Ringback's TwiML dialled for a call, so the
// reconciler can tell a call staff answered from one that ended in voicemail.
func (t *Texter) CallLegs(ctx context.Context, parentSID string) ([]bot.ListedCall, error) {
	calls, err := t.c.ChildCalls(ctx, parentSID)
	if err != nil {
		return nil, err
	}
	out := make([]bot.ListedCall, 0, len(calls))
	for _, c := range calls {
		out = append(out, bot.ListedCall{SID: c.SID, From: c.From, To: c.To, Status: c.Status, Direction: c.Direction, Duration: c.Duration})
	}
	return out, nil
}
