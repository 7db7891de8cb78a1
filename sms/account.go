package sms

import (
	"context"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Account is what Twilio says of the account the credentials open.
type Account struct {
	SID    string
	Name   string
	Status string // active, suspended or closed
}

// Account fetches the account: proof the credentials work.
func (c *Client) Account(ctx context.Context) (Account, error) {
	api, ex, err := c.api(ctx)
	if err != nil {
		return Account{}, err
	}
	a, err := api.FetchAccount(c.accountSID)
	if err != nil {
		return Account{}, ex.fail("fetch account", err)
	}
	return Account{SID: deref(a.Sid), Name: deref(a.FriendlyName), Status: deref(a.Status)}, nil
}

// IncomingNumber is a phone number on the account and where Twilio sends
// its calls and texts.
type IncomingNumber struct {
	PhoneNumber    string
	Voice, SMS     bool
	VoiceURL       string
	SMSURL         string
	StatusCallback string
}

// IncomingNumber looks e164 up among the account's numbers; ok is false
// when the account does not have it.
func (c *Client) IncomingNumber(ctx context.Context, e164 string) (n IncomingNumber, ok bool, err error) {
	api, ex, err := c.api(ctx)
	if err != nil {
		return n, false, err
	}
	p := &openapi.ListIncomingPhoneNumberParams{}
	p.SetPhoneNumber(e164)
	p.SetPageSize(20)
	recs, err := api.ListIncomingPhoneNumber(p)
	if err != nil {
		return n, false, ex.fail("list incoming numbers", err)
	}
	for _, r := range recs {
		if deref(r.PhoneNumber) != e164 {
			continue
		}
		n = IncomingNumber{PhoneNumber: e164, VoiceURL: deref(r.VoiceUrl), SMSURL: deref(r.SmsUrl), StatusCallback: deref(r.StatusCallback)}
		if caps := r.Capabilities; caps != nil {
			n.Voice = caps.Voice
			n.SMS = caps.Sms
		}
		return n, true, nil
	}
	return n, false, nil
}
