package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ringback/sms/twiliostandin"
	"ringback/store"
)

func TestMissedCallOpensCaseAndTextsBackOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missed("CA00000000000000000000000000000001", caller, lettings)
		texts := h.textsTo(caller)
		if len(texts) != 1 {
			t.Fatalf("texts to the caller = %d, want 1", len(texts))
		}
		body := texts[0].Body
		for _, want := range []string{"Northside Lettings", "Reply 1 viewings, 2 maintenance, 3 compliance, 9 urgent safety"} {
			if !strings.Contains(body, want) {
				t.Errorf("text-back %q lacks %q", body, want)
			}
		}
		if texts[0].From != lettings || texts[0].StatusCallback != publicURL+"/twilio/sms/status" {
			t.Errorf("text-back from %s with callback %s", texts[0].From, texts[0].StatusCallback)
		}
		c := h.openCase(caller, lettings)
		if c.CallCount != 1 || c.State != store.CaseOpen || c.TextbackStatus != "sent" || c.AfterHours {
			t.Fatalf("case = %+v", c)
		}

		// Twilio retries the same callback: nothing new.
		h.missed("CA00000000000000000000000000000001", caller, lettings)
		if n := h.count("cases"); n != 1 {
			t.Fatalf("cases after a retried callback = %d", n)
		}
		if got := h.openCase(caller, lettings); got.CallCount != 1 {
			t.Fatalf("a retried callback counted as a call: %d", got.CallCount)
		}

		// The caller rings again: same case, two calls, no second text.
		h.clock.Advance(5 * time.Minute)
		h.missed("CA00000000000000000000000000000002", caller, lettings)
		if got := h.openCase(caller, lettings); got.CallCount != 2 || got.ID != c.ID {
			t.Fatalf("repeat call: case %d with %d calls, want case %d with 2", got.ID, got.CallCount, c.ID)
		}
		if n := len(h.textsTo(caller)); n != 1 {
			t.Fatalf("texts after a repeat call = %d, want still 1", n)
		}
		if n := h.count("cases"); n != 1 {
			t.Fatalf("cases = %d, want 1", n)
		}
	})
}

func TestDeliveryReceiptsUpdateTheTextBack(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missed("CA10000000000000000000000000000001", caller, lettings)
		sent := h.textsTo(caller)
		if len(sent) != 1 {
			t.Fatal("no text-back")
		}
		if got := h.openCase(caller, lettings).TextbackStatus; got != "sent" { // Twilio said "queued": on its way
			t.Fatalf("after Twilio accepted: %q", got)
		}
		code, _ := h.postTwilio("/twilio/sms/status", url.Values{"MessageSid": {sent[0].SID}, "MessageStatus": {"delivered"}, "AccountSid": {accountSID}})
		if code != http.StatusNoContent {
			t.Fatalf("status callback: %d", code)
		}
		if got := h.openCase(caller, lettings).TextbackStatus; got != "delivered" {
			t.Fatalf("after delivered: %q", got)
		}
		// A late "sent" never moves it back.
		h.postTwilio("/twilio/sms/status", url.Values{"MessageSid": {sent[0].SID}, "MessageStatus": {"sent"}, "AccountSid": {accountSID}})
		if got := h.openCase(caller, lettings).TextbackStatus; got != "delivered" {
			t.Fatalf("after a late sent: %q", got)
		}
		// An unknown SID is acknowledged, not an error.
		if code, _ := h.postTwilio("/twilio/sms/status", url.Values{"MessageSid": {"SMffffffffffffffffffffffffffffffff"}, "MessageStatus": {"delivered"}}); code != http.StatusNoContent {
			t.Fatalf("unknown sid: %d", code)
		}
	})
}

// A receipt saying the text-back was undelivered to a landline (30006)
// marks the number: no line texts it again.
func TestUndeliveredToALandlineIsNotTextedAgain(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missed("CA20000000000000000000000000000001", caller, maint)
		sent := h.textsTo(caller)
		if len(sent) != 1 || sent[0].From != maint {
			t.Fatalf("texts = %+v", sent)
		}
		code, _ := h.postTwilio("/twilio/sms/status", url.Values{"MessageSid": {sent[0].SID}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30006"}})
		if code != http.StatusNoContent {
			t.Fatal(code)
		}
		if got := h.openCase(caller, maint).TextbackStatus; got != "undelivered (error 30006)" {
			t.Fatalf("status = %q", got)
		}
		// 30006: a landline. The next case on another line is not texted.
		h.missed("CA20000000000000000000000000000002", caller, lettings)
		if n := len(h.textsTo(caller)); n != 1 {
			t.Fatalf("a landline was texted again")
		}
		if got := h.openCase(caller, lettings).TextbackStatus; !strings.Contains(got, "cannot receive texts") {
			t.Fatalf("status = %q", got)
		}
	})
}

func TestCallerRepliesTriageTheCase(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missed("CA30000000000000000000000000000001", caller, lettings)
		if code, _ := h.text(caller, lettings, " 2 "); code != 200 {
			t.Fatalf("sms webhook: %d", code)
		}
		h.flush()
		c := h.openCase(caller, lettings)
		if c.Category != "maintenance" || c.Urgent || c.CategorizedAt == nil || c.DueAt == nil {
			t.Fatalf("after '2': %+v", c)
		}
		if n := len(h.textsTo(caller)); n != 1 {
			t.Fatalf("a triage digit got a reply: %d texts", n)
		}

		// A free-text reply joins the case too.
		h.text(caller, lettings, "The boiler is leaking <@channel>")
		msgs, _ := h.store.MessagesForCase(context.Background(), c.ID)
		var inbound int
		for _, m := range msgs {
			if m.Direction == store.Inbound {
				inbound++
			}
		}
		if inbound != 2 {
			t.Fatalf("inbound messages on the case = %d, want 2", inbound)
		}
	})
}

func TestUrgentDigitMarksUrgentAndRepliesWithSafety(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missed("CA40000000000000000000000000000001", caller, maint)
		h.texted(caller, maint, "9")
		c := h.openCase(caller, maint)
		if !c.Urgent || c.Category != "urgent" {
			t.Fatalf("after '9': urgent=%v category=%q", c.Urgent, c.Category)
		}
		texts := h.textsTo(caller)
		if len(texts) != 2 || !strings.Contains(texts[1].Body, "call 999") {
			t.Fatalf("safety reply missing: %+v", texts)
		}
	})
}

func TestOptOutStopsEveryText(t *testing.T) {
	for _, stop := range []string{"STOP", "please stop texting me", "Unsubscribe me!"} {
		t.Run(stop, func(t *testing.T) {
			each(t, func(t *testing.T, h *harness) {
				h.missed("CA50000000000000000000000000000001", caller, lettings)
				h.texted(caller, lettings, stop)
				opted, _ := h.store.IsOptedOut(context.Background(), caller)
				if !opted {
					t.Fatal("not opted out")
				}
				texts := h.textsTo(caller)
				confirmations := len(texts) - 1
				if stop == "STOP" && confirmations != 0 {
					t.Fatalf("Ringback confirmed a STOP Twilio already answers: %+v", texts)
				}
				if stop != "STOP" && confirmations != 1 {
					t.Fatalf("plain-language opt-out: %d confirmations, want exactly 1", confirmations)
				}
				// Saying it again sends no second confirmation.
				h.texted(caller, lettings, stop)
				if n := len(h.textsTo(caller)); n != len(texts) {
					t.Fatalf("a second opt-out sent another text")
				}
				// Close the case; the next missed call (any line) is not texted.
				c := h.openCase(caller, lettings)
				c.State = store.CaseClosed
				h.store.UpdateCase(context.Background(), c)
				h.clock.Advance(24 * time.Hour)
				h.missed("CA50000000000000000000000000000002", caller, maint)
				if n := len(h.textsTo(caller)); n != len(texts) {
					t.Fatalf("an opted-out caller was texted after a missed call")
				}
				if got := h.openCase(caller, maint).TextbackStatus; !strings.Contains(got, "opted out") {
					t.Fatalf("text-back status %q does not say why", got)
				}
				// START opts back in.
				h.text(caller, maint, "START")
				if opted, _ := h.store.IsOptedOut(context.Background(), caller); opted {
					t.Fatal("START did not opt back in")
				}
			})
		})
	}
}

func TestWithheldNumberOpensCaseWithoutText(t *testing.T) {
	for _, from := range []string{"+266696687", "+7378742833", "anonymous", ""} {
		t.Run("from="+from, func(t *testing.T) {
			each(t, func(t *testing.T, h *harness) {
				h.missedCall("CA60000000000000000000000000000001", from, lettings)
				h.missedCall("CA60000000000000000000000000000002", from, lettings)
				h.flush()
				if n := len(h.twilio.Messages()); n != 0 {
					t.Fatalf("texted a withheld number: %d", n)
				}
				var cases []store.Case
				h.store.DB().Select(&cases, "SELECT id, caller_number, textback_status FROM cases")
				if len(cases) != 2 {
					t.Fatalf("withheld calls opened %d cases, want one each", len(cases))
				}
				if cases[0].CallerNumber != "" || cases[0].TextbackStatus != "not sent: number withheld" {
					t.Fatalf("case = %+v", cases[0])
				}
			})
		})
	}
}

func TestSpamNumberOpensSpamCaseWithoutText(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.store.AddSpam(context.Background(), caller, "U0MANAGER1", monday10)
		h.missed("CA70000000000000000000000000000001", caller, lettings)
		if n := len(h.twilio.Messages()); n != 0 {
			t.Fatal("texted a number on the spam list")
		}
		if c := h.openCase(caller, lettings); !c.Spam {
			t.Fatal("case not marked spam")
		}
	})
}

func TestTwilioUnsubscribedErrorMarksOptedOut(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.twilio.FailNext(1, 400, 21610, 0)
		h.missed("CA80000000000000000000000000000001", caller, lettings)
		if opted, _ := h.store.IsOptedOut(context.Background(), caller); !opted {
			t.Fatal("21610 did not mark the number opted out")
		}
		c := h.openCase(caller, lettings)
		if !strings.Contains(c.TextbackStatus, "opted out") {
			t.Fatalf("text-back status = %q", c.TextbackStatus)
		}
		dead, _ := h.store.OutboxByState(context.Background(), store.OutboxDead, 10)
		pending, _ := h.store.OutboxByState(context.Background(), store.OutboxPending, 10)
		for _, it := range append(dead, pending...) {
			if it.Kind == "sms.send" {
				t.Fatalf("a refused text is still retried or left dead: %+v", it)
			}
		}
	})
}

func TestTwilioOutageRetriesUntilSent(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.twilio.FailNext(2, 503, 0, 0)
		h.missed("CA90000000000000000000000000000001", caller, lettings)
		if n := len(h.twilio.Messages()); n != 0 {
			t.Fatal("sent through an outage")
		}
		h.clock.Advance(2 * time.Second) // attempt 1 → ~1 s
		h.flush()
		h.clock.Advance(20 * time.Second) // attempt 2 → ~16 s
		h.flush()
		if n := len(h.textsTo(caller)); n != 1 {
			t.Fatalf("texts after the outage = %d, want exactly 1", n)
		}
	})
}

func TestUnsignedOrForgedRequestsChangeNothing(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		form := url.Values{"CallSid": {"CAbad"}, "From": {caller}, "To": {lettings}, "CallStatus": {"no-answer"}}
		for name, sig := range map[string]string{
			"unsigned": "",
			"forged":   "bm90IGEgc2lnbmF0dXJl",
			"wrong url": func() string {
				return signFor("https://evil.example.com/twilio/voice/status", form)
			}(),
		} {
			req, _ := http.NewRequest("POST", h.server.URL+"/twilio/voice/status", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if sig != "" {
				req.Header.Set("X-Twilio-Signature", sig)
			}
			if code, _ := h.do(req); code != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", name, code)
			}
		}
		// A signed form with a tampered field is refused too.
		sig := signFor(publicURL+"/twilio/voice/status", form)
		form.Set("From", "+447700900999")
		req, _ := http.NewRequest("POST", h.server.URL+"/twilio/voice/status", strings.NewReader(form.Encode()))
		req.Header.Set("X-Twilio-Signature", sig)
		if code, _ := h.do(req); code != http.StatusForbidden {
			t.Errorf("tampered: %d", code)
		}
		for _, table := range []string{"calls", "cases", "messages", "outbox", "events"} {
			if n := h.count(table); n != 0 {
				t.Errorf("%s has %d rows after refused requests", table, n)
			}
		}
	})
}

func TestBadInputIsRefusedWithNothingWritten(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		cases := []struct {
			name string
			path string
			form url.Values
			want int
		}{
			{"no CallSid", "/twilio/voice/status", url.Values{"From": {caller}, "To": {lettings}, "CallStatus": {"no-answer"}}, 400},
			{"no CallStatus", "/twilio/voice/status", url.Values{"CallSid": {"CA1"}, "From": {caller}, "To": {lettings}}, 400},
			{"caller not a number", "/twilio/voice/status", url.Values{"CallSid": {"CA2"}, "From": {"12"}, "To": {lettings}, "CallStatus": {"busy"}}, 400},
			{"line not a number", "/twilio/voice/status", url.Values{"CallSid": {"CA3"}, "From": {caller}, "To": {"xyz"}, "CallStatus": {"busy"}}, 400},
			{"sms without sender", "/twilio/sms", url.Values{"MessageSid": {"SM1"}, "To": {lettings}, "Body": {"hi"}}, 400},
			{"receipt without status", "/twilio/sms/status", url.Values{"MessageSid": {"SM1"}}, 400},
		}
		for _, c := range cases {
			if code, body := h.postTwilio(c.path, c.form); code != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
			}
		}
		// Over 64 KiB: 413.
		big := url.Values{"CallSid": {"CA4"}, "From": {caller}, "To": {lettings}, "CallStatus": {"busy"}, "Pad": {strings.Repeat("x", 70<<10)}}
		if code, _ := h.postTwilio("/twilio/voice/status", big); code != http.StatusRequestEntityTooLarge {
			t.Errorf("oversize: %d, want 413", code)
		}
		// Not a form at all.
		req, _ := http.NewRequest("POST", h.server.URL+"/twilio/voice/status", strings.NewReader("%zz"))
		req.Header.Set("X-Twilio-Signature", "x")
		if code, _ := h.do(req); code != http.StatusBadRequest {
			t.Errorf("malformed form: %d, want 400", code)
		}
		for _, table := range []string{"calls", "cases", "messages", "outbox"} {
			if n := h.count(table); n != 0 {
				t.Errorf("%s has %d rows after bad input", table, n)
			}
		}
	})
}

func TestUnknownLineIsStoredNotDropped(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missedCall("CAa0000000000000000000000000000001", caller, "+441632960999")
		h.flush()
		var calls []store.Call
		h.store.DB().Select(&calls, "SELECT sid, routed, missed FROM calls")
		if len(calls) != 1 || calls[0].Routed || !calls[0].Missed {
			t.Fatalf("calls = %+v, want one unrouted missed call", calls)
		}
		if h.count("cases") != 0 || len(h.twilio.Messages()) != 0 {
			t.Fatal("an unknown line opened a case or texted")
		}
	})
}

func TestAnsweredCallsAreRecordedForTheMissRate(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		code, _ := h.postTwilio("/twilio/voice/status", url.Values{
			"CallSid": {"CAb0000000000000000000000000000001"}, "From": {caller}, "To": {lettings},
			"CallStatus": {"completed"}, "Direction": {"inbound"}, "CallDuration": {"95"},
		})
		if code != 200 {
			t.Fatal(code)
		}
		var calls []store.Call
		h.store.DB().Select(&calls, "SELECT sid, missed, duration_s FROM calls")
		if len(calls) != 1 || calls[0].Missed || calls[0].DurationS != 95 {
			t.Fatalf("calls = %+v", calls)
		}
		if h.count("cases") != 0 {
			t.Fatal("an answered call opened a case")
		}
		// Outbound calls (staff calling back) are not tracked.
		h.postTwilio("/twilio/voice/status", url.Values{"CallSid": {"CAb2"}, "From": {lettings}, "To": {caller}, "CallStatus": {"no-answer"}, "Direction": {"outbound-api"}})
		if h.count("calls") != 1 {
			t.Fatal("an outbound call was recorded")
		}
	})
}

func TestReconcilerIngestsCallsWhoseWebhookNeverArrived(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missedCall("CAc0000000000000000000000000000001", caller, lettings) // arrived
		h.twilio.AddCall(twiliostandin.CallRecord{SID: "CAc0000000000000000000000000000001", From: caller, To: lettings, Status: "no-answer", StartTime: monday10})
		h.twilio.AddCall(twiliostandin.CallRecord{SID: "CAc0000000000000000000000000000002", From: "+447700900555", To: lettings, Status: "busy", StartTime: monday10})
		h.twilio.AddCall(twiliostandin.CallRecord{SID: "CAc0000000000000000000000000000003", From: "+447700900556", To: lettings, Status: "completed", StartTime: monday10, Duration: 60})
		// Staff answered the third call: its <Dial> leg completed.
		h.twilio.AddCall(twiliostandin.CallRecord{ParentSID: "CAc0000000000000000000000000000003", From: lettings, To: "+447700900001", Status: "completed", Direction: "outbound-dial", StartTime: monday10.Add(time.Second), Duration: 55})
		n, err := h.bot.Reconcile(context.Background(), reconcileLister(h))
		if err != nil || n != 1 {
			t.Fatalf("reconcile: %d, %v; want 1 ingested", n, err)
		}
		h.flush()
		if len(h.textsTo("+447700900555")) != 1 {
			t.Fatal("the missed call found by reconciliation got no text-back")
		}
		// Again: idempotent.
		if n, _ := h.bot.Reconcile(context.Background(), reconcileLister(h)); n != 0 {
			t.Fatalf("second pass ingested %d", n)
		}
	})
}

// Twilio may call the status callback before it answers the send request;
// the receipt waits for the SID instead of being lost.
func TestDeliveryReceiptBeforeTheSendAnswer(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.twilio.OnMessage(func(m twiliostandin.SentMessage) {
			if code, _ := h.postTwilio("/twilio/sms/status", url.Values{"MessageSid": {m.SID}, "MessageStatus": {"delivered"}, "AccountSid": {accountSID}}); code != http.StatusNoContent {
				t.Errorf("early receipt: %d", code)
			}
		})
		h.missed("CAe0000000000000000000000000000001", caller, lettings)
		if got := h.openCase(caller, lettings).TextbackStatus; got != "delivered" {
			t.Fatalf("text-back status = %q, want delivered", got)
		}
		if n := h.count("early_receipts"); n != 0 {
			t.Fatalf("%d receipts left waiting", n)
		}
	})
}
