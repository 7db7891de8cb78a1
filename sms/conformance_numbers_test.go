package sms_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"ringback/sms"
	"ringback/sms/internal/smstest"
	"ringback/sms/twiliostandin"
)

// The account and IncomingPhoneNumbers, which `ringback check --online`
// reads: the stand-in answers in the spec's shapes, the client sends only
// documented parameters and reads what a number is set up to do.
func TestConformanceAccountAndIncomingNumbers(t *testing.T) {
	t.Parallel()
	lc := newListCheck(t, "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json")
	lc.srv.AddIncomingNumber(twiliostandin.IncomingNumber{PhoneNumber: "+15550000001", Voice: true})
	lc.srv.AddIncomingNumber(twiliostandin.IncomingNumber{PhoneNumber: smstest.LineNumber, Voice: true, SMS: true,
		VoiceURL: "https://rb.example/twilio/voice", SMSURL: "https://rb.example/twilio/sms", StatusCallback: "https://rb.example/twilio/voice/status"})
	c := sms.New(smstest.AccountSID, smstest.AuthToken, lc.recorder.URL)

	n, ok, err := c.IncomingNumber(context.Background(), smstest.LineNumber)
	want := sms.IncomingNumber{PhoneNumber: smstest.LineNumber, Voice: true, SMS: true,
		VoiceURL: "https://rb.example/twilio/voice", SMSURL: "https://rb.example/twilio/sms", StatusCallback: "https://rb.example/twilio/voice/status"}
	if err != nil || !ok || n != want {
		t.Fatalf("IncomingNumber = %+v, %v, %v; want %+v", n, ok, err, want)
	}
	if _, ok, err := c.IncomingNumber(context.Background(), "+15550000009"); ok || err != nil {
		t.Errorf("a number not on the account: ok %v, err %v", ok, err)
	}
	lc.mu.Lock()
	for _, q := range lc.queries {
		for k := range q {
			if !lc.documented[k] {
				t.Errorf("IncomingNumber sent query parameter %q, which the spec does not name", k)
			}
		}
	}
	lc.mu.Unlock()

	u := lc.srv.URL + "/2010-04-01/Accounts/" + smstest.AccountSID + "/IncomingPhoneNumbers.json?" + url.Values{"PhoneNumber": {smstest.LineNumber}}.Encode()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(smstest.AccountSID, smstest.AuthToken)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET IncomingPhoneNumbers: %d %v", resp.StatusCode, body)
	}
	lc.s.checkObject(t, "incoming phone numbers page", lc.page, body)
	item := lc.s.resolve(t, lc.page).Properties["incoming_phone_numbers"].Items
	nums := body["incoming_phone_numbers"].([]any)
	if len(nums) != 1 {
		t.Fatalf("filtered page has %d numbers", len(nums))
	}
	lc.s.checkObject(t, "incoming phone number", item, nums[0].(map[string]any))

	acct, err := c.Account(context.Background())
	if err != nil || acct.SID != smstest.AccountSID || acct.Status != "active" {
		t.Fatalf("Account = %+v, %v", acct, err)
	}
	op := lc.s.op(t, "/2010-04-01/Accounts/{Sid}.json", "get")
	req, _ = http.NewRequest(http.MethodGet, lc.srv.URL+"/2010-04-01/Accounts/"+smstest.AccountSID+".json", nil)
	req.SetBasicAuth(smstest.AccountSID, smstest.AuthToken)
	resp, body = do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET account: %d %v", resp.StatusCode, body)
	}
	lc.s.checkObject(t, "account", op.Responses["200"].Content["application/json"].Schema, body)
	if _, err := sms.New(smstest.AccountSID, "ffffffffffffffffffffffffffffffff", lc.srv.URL).Account(context.Background()); err == nil {
		t.Error("Account with a wrong token succeeded")
	}
}
