package sms_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/sms"
	"ringback/sms/internal/smstest"
	"ringback/sms/twiliostandin"
)

func TestConformanceMessagesList(t *testing.T) {
	t.Parallel()
	lc := newListCheck(t, messagesPath)

	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 120 {
		lc.srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "Hello", StatusCallback: statusURL, At: since.Add(time.Duration(i) * time.Second)})
	}
	delivered := lc.srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "Hello", At: since.Add(time.Hour / 2)})
	if err := lc.srv.Deliver(delivered, "undelivered", 30006); err == nil {
		t.Fatal("Deliver without a StatusCallback succeeded") // it still records the status
	}
	if _, err := sms.New(smstest.AccountSID, smstest.AuthToken, lc.recorder.URL).OutgoingSince(context.Background(), smstest.Caller, smstest.LineNumber, since); err != nil {
		t.Fatalf("OutgoingSince: %v", err)
	}
	for _, q := range lc.sentQueries(t, "OutgoingSince") {
		if q.Get("To") != smstest.Caller || q.Get("From") != smstest.LineNumber {
			t.Errorf("query %v lacks To or From", q)
		}
	}

	// The stand-in's page and message resources have the spec's shape.
	body := lc.getPage(t, "Messages.json", smstest.Caller)
	if next, _ := body["next_page_uri"].(string); !strings.HasPrefix(next, "/2010-04-01/Accounts/"+smstest.AccountSID+"/Messages.json?") || !strings.Contains(next, "To=") {
		t.Errorf("next_page_uri = %v, want the filters kept", body["next_page_uri"])
	}
	message := lc.s.resolve(t, lc.page).Properties["messages"].Items
	messages := body["messages"].([]any)
	if len(messages) != 50 {
		t.Fatalf("page has %d messages, want 50", len(messages))
	}
	first := messages[0].(map[string]any)
	if first["sid"] != delivered || first["status"] != "undelivered" || first["error_code"] != float64(30006) || first["date_sent"] == nil {
		t.Errorf("newest message = %v, want %s undelivered with error 30006 and a date_sent", first, delivered)
	}
	for _, m := range messages[:3] {
		lc.s.checkObject(t, "message", message, m.(map[string]any))
	}
}

// A text's status is read back as the spec's message resource, and the
// Texter reads it as a receipt would tell it: the status, and the problem
// of a failed delivery; an unknown SID is Twilio's 404, not a retry.
func TestConformanceMessageFetch(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	op := s.op(t, "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json", "get")
	srv := twiliostandin.NewServer(smstest.AccountSID, smstest.AuthToken)
	t.Cleanup(srv.Close)
	sid := srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "Hello", StatusCallback: statusURL, At: time.Now()})
	if err := srv.SetStatus(sid, "undelivered", sms.CodeUnreachable); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/2010-04-01/Accounts/"+smstest.AccountSID+"/Messages/"+sid+".json", nil)
	req.SetBasicAuth(smstest.AccountSID, smstest.AuthToken)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK || body["sid"] != sid || body["status"] != "undelivered" {
		t.Fatalf("GET the message: %s %v", resp.Status, body)
	}
	s.checkObject(t, "message", op.Responses["200"].Content["application/json"].Schema, body)

	texter := sms.NewTexter(sms.New(smstest.AccountSID, smstest.AuthToken, srv.URL))
	got, err := texter.AskReceipt(context.Background(), sid)
	want := bot.SMSReceipt{SID: sid, State: bot.SMSUndelivered, Problem: bot.SMSProblemUnreachable, Code: strconv.Itoa(sms.CodeUnreachable)}
	if err != nil || got != want {
		t.Errorf("AskReceipt = %+v, %v; want %+v", got, err, want)
	}
	if err := srv.SetStatus(sid, "delivered", 0); err != nil {
		t.Fatal(err)
	}
	if got, err := texter.AskReceipt(context.Background(), sid); err != nil || got != (bot.SMSReceipt{SID: sid, State: bot.SMSDelivered}) {
		t.Errorf("AskReceipt after delivery = %+v, %v", got, err)
	}
	if _, err := texter.AskReceipt(context.Background(), "SM"+strings.Repeat("0", 32)); !errors.Is(err, bot.ErrTextUnknown) {
		t.Errorf("AskReceipt of an unknown text = %v, want bot.ErrTextUnknown", err)
	}
	srv.FailNext(1, http.StatusUnauthorized, 20003, 0)
	if _, err := texter.AskReceipt(context.Background(), sid); err == nil || errors.Is(err, bot.ErrTextUnknown) {
		t.Errorf("AskReceipt refused = %v, want an error other than an unknown text", err)
	}
}
