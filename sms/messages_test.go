package sms_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/sms"
	"ringback/sms/internal/smstest"
	"ringback/sms/twiliostandin"
)

// A hung Twilio must not hold an outbox worker: the request gives up after
// the client's timeout, as a temporary failure to retry.
func TestSendToAHungTwilioTimesOut(t *testing.T) {
	t.Parallel()
	c, srv := smstest.Setup(t)
	srv.SetLatency(10 * time.Second)
	c.SetTimeout(200 * time.Millisecond)

	start := time.Now()
	_, err := c.Send(context.Background(), textback())
	if err == nil {
		t.Fatal("Send to a hung Twilio succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send waited %v on a hung Twilio with a 200ms timeout", d)
	}
	if !sms.Temporary(err) {
		t.Errorf("Temporary(%v) = false, want true", err)
	}
}

func TestOutgoingSinceListsTheLinesTextsToTheCallerAcrossPages(t *testing.T) {
	t.Parallel()
	c, srv, pages := pageCounting(t, "Messages.json")

	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	var want []string // newest first
	for i := range 150 {
		sid := srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "text", At: since.Add(time.Duration(i) * time.Second)})
		want = append([]string{sid}, want...)
	}
	// Not to be listed: before since, to another number, from another line.
	srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "text", At: since.Add(-time.Second)})
	srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: "+447700900999", Body: "text", At: since.Add(time.Minute)})
	srv.AddMessage(twiliostandin.SentMessage{From: "+441632960002", To: smstest.Caller, Body: "text", At: since.Add(time.Minute)})

	got, err := c.OutgoingSince(context.Background(), smstest.Caller, smstest.LineNumber, since)
	if err != nil {
		t.Fatalf("OutgoingSince: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d texts, want %d", len(got), len(want))
	}
	for i, m := range got {
		if m.SID != want[i] || m.To != smstest.Caller || m.From != smstest.LineNumber || m.Body != "text" || m.Status != "queued" || m.Direction != "outbound-api" {
			t.Fatalf("text %d = %+v, want %s first-newest", i, m, want[i])
		}
	}
	if p := pages.Load(); p < 2 {
		t.Errorf("listed in %d page(s), want paging", p)
	}
}

// The stand-in's list filters as Twilio documents: DateSent compares GMT
// dates of date_sent, which a queued message does not have yet.
func TestStandInListsMessagesLikeTwilio(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	today := time.Now().UTC()
	yesterday := today.Add(-24 * time.Hour)
	old := srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "old", Status: "delivered", At: yesterday})
	sent := srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "sent", Status: "sent", At: today.Add(-time.Second)})
	queued := srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "queued", At: today})

	list := func(q url.Values) []string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/2010-04-01/Accounts/"+smstest.AccountSID+"/Messages.json?"+q.Encode(), nil)
		req.SetBasicAuth(smstest.AccountSID, smstest.AuthToken)
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET ?%s: %d %v", q.Encode(), resp.StatusCode, body)
		}
		var sids []string
		for _, m := range body["messages"].([]any) {
			sids = append(sids, m.(map[string]any)["sid"].(string))
		}
		return sids
	}
	day := today.Format(time.DateOnly)
	for _, tc := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{"To": {smstest.Caller}}, []string{queued, sent, old}},
		{url.Values{"DateSent>": {day}}, []string{sent}},
		{url.Values{"DateSent<": {day}}, []string{sent, old}},
		{url.Values{"DateSent": {yesterday.Format(time.DateOnly)}}, []string{old}},
		// twilio-go sends a full timestamp; Twilio reads its date.
		{url.Values{"DateSent>": {today.Format(time.RFC3339)}}, []string{sent}},
		{url.Values{"From": {"+441632960002"}}, nil},
	} {
		q, want := tc.q, tc.want
		if got := list(q); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("?%s listed %v, want %v", q.Encode(), got, want)
		}
	}
}

// FindSMS is what the bot asks after a send whose answer was lost: the same
// words to the same caller from the same line (or service) since the attempt.
func TestFindSMSMatchesTheSameText(t *testing.T) {
	t.Parallel()
	c, srv := smstest.Setup(t)
	texter := sms.NewTexter(c)
	const svc = "MG0123456789abcdef0123456789abcdef"
	attempt := time.Now().Add(-10 * time.Minute)
	out := bot.OutgoingSMS{From: smstest.LineNumber, To: smstest.Caller, Body: "Sorry we missed your call."}

	srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: out.Body, At: attempt.Add(-time.Hour)}) // an older text-back
	srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: "Other words", At: attempt.Add(time.Second)})
	srv.AddMessage(twiliostandin.SentMessage{From: "+441632960002", To: smstest.Caller, Body: out.Body, At: attempt.Add(time.Second)})
	if found, err := texter.FindSMS(context.Background(), out, attempt); err != nil || len(found) != 0 {
		t.Fatalf("FindSMS before the text went = %+v %v, want nothing", found, err)
	}
	first := srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: out.Body, At: attempt.Add(2 * time.Second)})
	second := srv.AddMessage(twiliostandin.SentMessage{From: smstest.LineNumber, To: smstest.Caller, Body: out.Body, Status: "delivered", At: attempt.Add(3 * time.Second)})
	found, err := texter.FindSMS(context.Background(), out, attempt)
	if err != nil || len(found) != 2 || found[0].SID != first || found[1].SID != second || found[1].Status != "delivered" {
		t.Fatalf("FindSMS = %+v %v, want %s then %s, oldest first", found, err, first, second)
	}

	viaService := out
	viaService.MessagingServiceSID = svc
	sid := srv.AddMessage(twiliostandin.SentMessage{From: "+441632960009", MessagingServiceSID: svc, To: smstest.Caller, Body: out.Body, At: attempt.Add(4 * time.Second)})
	found, err = texter.FindSMS(context.Background(), viaService, attempt)
	if err != nil || len(found) != 1 || found[0].SID != sid {
		t.Fatalf("FindSMS through a service = %+v %v, want only %s", found, err, sid)
	}

	srv.FailNext(1, http.StatusServiceUnavailable, 0, 0)
	// FailNext scripts Messages.json, listing included.
	_, err = texter.FindSMS(context.Background(), out, attempt)
	var se *bot.SMSError
	if !errors.As(err, &se) || !se.Temporary {
		t.Fatalf("FindSMS on a 503 = %v, want a temporary SMSError", err)
	}
}
