package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/bot/slack/slackstandin"
	"ringback/sms/twiliostandin"
	"ringback/store"
	"ringback/store/storetest"
)

// designConfig is DESIGN.md's example ringback.yaml: no safety, help or
// opt-out confirmation template.
var designConfig = filepath.Join("..", "testdata", "ringback.design.yaml")

const onCall = "+447700900999" // the design example's on-call phone

// eachWith runs fn on every backend with a fresh harness on the config at path.
func eachWith(t *testing.T, path string, fn func(t *testing.T, h *harness)) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) { fn(t, newHarnessOn(t, backend, path)) })
	}
}

// designWith writes the design example plus extra templates to a file.
func designWith(t *testing.T, extra string) string {
	t.Helper()
	data, err := os.ReadFile(designConfig)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ringback.yaml")
	if err := os.WriteFile(path, append(data, []byte(extra)...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cardAndThread returns the texts of the one card in channel and its thread.
func cardAndThread(h *harness, channel string) (card, thread string) {
	h.t.Helper()
	var top []slackstandin.Message
	for _, m := range h.slack.Messages(channel) {
		if m.ThreadTS == "" {
			top = append(top, m)
		}
	}
	if len(top) != 1 {
		h.t.Fatalf("%d top-level messages in %s, want one card", len(top), channel)
	}
	return strings.Join(slackstandin.BlockTexts(top[0].Blocks), "\n"), h.threadTexts(channel, top[0].TS)
}

func bodies(ms []twiliostandin.SentMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Body)
	}
	return out
}

// The design example has no safety template: a "9" must still commit the
// reply, the triage, the urgency and the page, and the caller must get the
// built-in safety text naming the business.
func TestDesignConfigUrgentReplyGetsBuiltInSafetyTextAndPage(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		pressNineByText(t, h, "CA50000000000000000000000000000001")
		texts := bodies(h.textsTo(caller))
		if len(texts) != 2 || !strings.HasPrefix(texts[1], "Northside Lettings: ") || !strings.Contains(texts[1], "call 999") || strings.Contains(texts[1], "{{") {
			t.Fatalf("texts to the caller: %q", texts)
		}
		pages := bodies(h.textsTo(onCall))
		if len(pages) != 1 || !strings.Contains(pages[0], "URGENT") {
			t.Fatalf("on-call pages: %q", pages)
		}
		card, thread := cardAndThread(h, "C0LETTINGS")
		if !strings.Contains(card, "URGENT") {
			t.Fatalf("card does not show urgent:\n%s", card)
		}
		if !strings.Contains(thread, "Caller texted") || !strings.Contains(thread, "URGENT: caller chose Urgent safety") ||
			!strings.Contains(thread, `Safety text: no approved template "safety"; sent the built-in text`) {
			t.Fatalf("thread:\n%s", thread)
		}
	})
}

// HELP from a caller with no case, and from one with a case, gets the
// built-in help text with the line's menu.
func TestDesignConfigHelpGetsBuiltInHelpText(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		if code, body := h.text(caller, lettings, "HELP"); code/100 != 2 {
			t.Fatalf("sms webhook answered %d: %s", code, body)
		}
		h.flush()
		texts := bodies(h.textsTo(caller))
		want := "Northside Lettings (Lettings): reply 1 Viewing / lettings, 2 Maintenance, 3 Compliance, 9 Urgent safety. Call us on 01632 960001. Reply STOP to stop texts."
		if len(texts) != 1 || texts[0] != want {
			t.Fatalf("help texts: %q\nwant %q", texts, want)
		}
		h.missed("CA50000000000000000000000000000002", caller, lettings)
		// Past the repeat window, HELP on a case is answered again.
		h.clock.Advance(31 * time.Minute)
		if code, body := h.text(caller, lettings, "help"); code/100 != 2 {
			t.Fatalf("sms webhook answered %d: %s", code, body)
		}
		h.flush()
		if texts := bodies(h.textsTo(caller)); len(texts) != 3 || texts[2] != want {
			t.Fatalf("texts after HELP on a case: %q", texts)
		}
	})
}

// A caller who texts "9" five times and "HELP" three times gets one safety
// text and one help text, and the channel is alerted once; every "9" still
// shows in the thread.
func TestRepeatedUrgentAndHelpAreAnsweredOnce(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		pressNineByText(t, h, "CA50000000000000000000000000000009")
		for range 4 {
			if code, body := h.text(caller, lettings, "9"); code/100 != 2 {
				t.Fatalf("sms webhook answered %d: %s", code, body)
			}
		}
		for range 3 {
			if code, body := h.text(caller, lettings, "HELP"); code/100 != 2 {
				t.Fatalf("sms webhook answered %d: %s", code, body)
			}
		}
		h.flush()
		h.clock.Advance(5 * time.Second) // the thread's batch of caller texts
		h.flush()
		texts := bodies(h.textsTo(caller))
		if len(texts) != 3 { // text-back, one safety text, one help text
			t.Fatalf("texts to the caller: %d, want 3: %q", len(texts), texts)
		}
		if pages := h.textsTo(onCall); len(pages) != 1 {
			t.Fatalf("on-call paged %d times, want 1", len(pages))
		}
		_, thread := cardAndThread(h, "C0LETTINGS")
		if n := strings.Count(thread, "<!channel>"); n != 1 {
			t.Errorf("%d channel alerts in the thread, want 1:\n%s", n, thread)
		}
		if n := strings.Count(thread, "> 9"); n != 5 { // HELP is a keyword, not a reply
			t.Errorf("thread quotes %d caller texts, want 5:\n%s", n, thread)
		}
	})
}

// A safety text the carrier could not deliver does not count as answered:
// the caller's next "9" gets the safety text again.
func TestUndeliveredSafetyTextIsNotARepeat(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		pressNineByText(t, h, "CA50000000000000000000000000000010")
		texts := h.textsTo(caller)
		if len(texts) != 2 {
			t.Fatalf("texts to the caller: %q", bodies(texts))
		}
		h.receipt(texts[1].SID, "undelivered", 30003)
		if code, body := h.text(caller, lettings, "9"); code/100 != 2 {
			t.Fatalf("sms webhook answered %d: %s", code, body)
		}
		h.flush()
		texts = h.textsTo(caller)
		if len(texts) != 3 || texts[2].Body != texts[1].Body {
			t.Fatalf("after an undelivered safety text, texts to the caller: %q", bodies(texts))
		}
	})
}

// A plain-language opt-out with no optout_confirm template gets the one
// built-in confirmation.
func TestDesignConfigPlainOptOutGetsBuiltInConfirmation(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		h.missed("CA50000000000000000000000000000003", caller, lettings)
		if code, body := h.text(caller, lettings, "please stop texting me"); code/100 != 2 {
			t.Fatalf("sms webhook answered %d: %s", code, body)
		}
		h.flush()
		texts := bodies(h.textsTo(caller))
		if len(texts) != 2 || texts[1] != "Northside Lettings: you won't get any more texts from us. Reply START to opt back in." {
			t.Fatalf("texts: %q", texts)
		}
	})
}

// A safety template the case cannot fill ({{caller_name}} of an unknown
// caller) is noted on the case; the triage, urgency and page commit and the
// caller gets the built-in safety text rather than nothing.
func TestUnfillableSafetyTemplateIsRecordedAndTheRestCommits(t *testing.T) {
	path := designWith(t, `  - key: safety
    categories: [urgent]
    text: "{{caller_name}}, if anyone is in danger call 999. {{business}} is calling you back."
`)
	eachWith(t, path, func(t *testing.T, h *harness) {
		c := pressNineByText(t, h, "CA50000000000000000000000000000004")
		events, err := h.store.EventsForCase(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var noted bool
		for _, e := range events {
			noted = noted || (e.Kind == "autoreply_builtin" && strings.Contains(string(e.Data), "caller_name"))
		}
		if !noted {
			t.Fatalf("no event notes the unfillable template: %+v", events)
		}
		if pages := h.textsTo(onCall); len(pages) != 1 {
			t.Fatalf("on-call pages: %d", len(pages))
		}
		texts := bodies(h.textsTo(caller))
		if len(texts) != 2 || !strings.HasPrefix(texts[1], "Northside Lettings: if anyone is in danger, call 999") {
			t.Fatalf("texts to the caller: %q", texts)
		}
		_, thread := cardAndThread(h, "C0LETTINGS")
		if !strings.Contains(thread, `Safety text: template "safety" cannot be filled`) || !strings.Contains(thread, "{{caller_name}}") {
			t.Fatalf("thread:\n%s", thread)
		}
	})
}

// An after-hours caller who pressed 9 and whom on-call did not answer is an
// urgent case, and on-call is paged; a caller who did not press 9, and an
// in-hours call nobody answered, are not urgent.
func TestPressNineUnansweredIsUrgentAndPages(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		h.clock.Set(time.Date(2026, 11, 16, 22, 0, 0, 0, time.UTC)) // Monday 22:00 London: closed
		h.postTwilio("/twilio/voice", voiceForm("CAp9", caller, lettings))
		menu := voiceForm("CAp9", caller, lettings)
		menu.Set("Digits", "9")
		if _, twiml := h.postTwilio("/twilio/voice?step=menu", menu); !strings.Contains(twiml, onCall) {
			t.Fatalf("press 9 does not dial on-call:\n%s", twiml)
		}
		dialed := voiceForm("CAp9", caller, lettings)
		dialed.Set("CallStatus", "in-progress")
		dialed.Set("DialCallStatus", "no-answer")
		if code, body := h.postTwilio("/twilio/voice/status", dialed); code != 200 {
			t.Fatalf("dial action: %d %s", code, body)
		}
		h.flush()
		c := h.openCase(caller, lettings)
		if !c.Urgent || !c.AfterHours {
			t.Fatalf("press 9 unanswered: urgent=%v after_hours=%v", c.Urgent, c.AfterHours)
		}
		pages := bodies(h.textsTo(onCall))
		if len(pages) != 1 || !strings.Contains(pages[0], "URGENT") {
			t.Fatalf("on-call pages: %q", pages)
		}
		texts := bodies(h.textsTo(caller))
		if len(texts) != 2 || !strings.Contains(texts[0], "closed right now") || !strings.Contains(texts[1], "call 999") {
			t.Fatalf("texts to the caller (text-back, then safety): %q", texts)
		}
		card, thread := cardAndThread(h, "C0LETTINGS")
		if !strings.Contains(card, "URGENT") || !strings.Contains(thread, "pressed 9") {
			t.Fatalf("card:\n%s\nthread:\n%s", card, thread)
		}
		// The caller then leaves a voicemail and the call completes: still
		// one page.
		rec := voiceForm("CAp9", caller, lettings)
		rec.Set("RecordingUrl", "https://api.twilio.com/rec/RE1")
		h.postTwilio("/twilio/voice/recording", rec)
		done := voiceForm("CAp9", caller, lettings)
		done.Set("CallStatus", "completed")
		h.postTwilio("/twilio/voice/status", done)
		h.flush()
		if pages := h.textsTo(onCall); len(pages) != 1 {
			t.Fatalf("on-call paged %d times", len(pages))
		}
		if n := len(h.textsTo(caller)); n != 2 {
			t.Fatalf("%d texts to the caller after the voicemail", n)
		}

		// Hung up in the menu without pressing 9: missed, not urgent.
		other := "+447700900124"
		h.postTwilio("/twilio/voice", voiceForm("CAp8", other, lettings))
		hung := voiceForm("CAp8", other, lettings)
		hung.Set("CallStatus", "completed")
		h.postTwilio("/twilio/voice/status", hung)
		h.flush()
		if c := h.openCase(other, lettings); c.Urgent {
			t.Fatal("a caller who did not press 9 is urgent")
		}

		// In hours, staff not answering is an ordinary missed call.
		h.clock.Set(monday10)
		third := "+447700900125"
		h.postTwilio("/twilio/voice", voiceForm("CAp7", third, lettings))
		ring := voiceForm("CAp7", third, lettings)
		ring.Set("CallStatus", "in-progress")
		ring.Set("DialCallStatus", "no-answer")
		h.postTwilio("/twilio/voice/status", ring)
		h.flush()
		if c := h.openCase(third, lettings); c.Urgent {
			t.Fatal("an in-hours unanswered call is urgent")
		}
		if pages := h.textsTo(onCall); len(pages) != 1 {
			t.Fatalf("on-call paged %d times", len(pages))
		}
	})
}

// When the Dial action never arrives, the reconciler still finds the
// unanswered on-call leg of a press-9 call and makes the case urgent; a
// caller who hung up in the menu (no leg) is not urgent.
func TestReconcilerFindsPressNineUnanswered(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		night := time.Date(2026, 11, 16, 22, 0, 0, 0, time.UTC)
		h.clock.Set(night)
		h.postTwilio("/twilio/voice", voiceForm("CAr9", caller, lettings))
		menu := voiceForm("CAr9", caller, lettings)
		menu.Set("Digits", "9")
		h.postTwilio("/twilio/voice?step=menu", menu)
		h.postTwilio("/twilio/voice", voiceForm("CAr8", "+447700900124", lettings))
		h.twilio.AddCall(twiliostandin.CallRecord{SID: "CAr9", From: caller, To: lettings, Status: "completed", StartTime: night, Duration: 40})
		h.twilio.AddCall(twiliostandin.CallRecord{ParentSID: "CAr9", From: lettings, To: onCall, Status: "no-answer", Direction: "outbound-dial", StartTime: night.Add(5 * time.Second)})
		h.twilio.AddCall(twiliostandin.CallRecord{SID: "CAr8", From: "+447700900124", To: lettings, Status: "completed", StartTime: night, Duration: 8})
		h.clock.Set(night.Add(2 * time.Minute))
		if n, err := h.bot.Reconcile(context.Background(), reconcileLister(h)); err != nil || n != 2 {
			t.Fatalf("reconcile: %d, %v; want 2 ingested", n, err)
		}
		h.flush()
		if c := h.openCase(caller, lettings); !c.Urgent {
			t.Fatal("press 9 unanswered, found by reconciliation, is not urgent")
		}
		if c := h.openCase("+447700900124", lettings); c.Urgent {
			t.Fatal("a caller who hung up in the menu is urgent")
		}
		if pages := h.textsTo(onCall); len(pages) != 1 {
			t.Fatalf("on-call paged %d times", len(pages))
		}
	})
}

// pressNineByText: a missed call, then the caller texts "9"; the webhook
// answers 2xx and the case is urgent. It returns the case.
func pressNineByText(t *testing.T, h *harness, callSID string) store.Case {
	t.Helper()
	missedThenText(t, h, callSID, "9")
	h.flush()
	c := h.openCase(caller, lettings)
	if !c.Urgent || c.Category != "urgent" {
		t.Fatalf("after '9': urgent=%v category=%q", c.Urgent, c.Category)
	}
	return c
}

// A caller flooding the line (40 texts in 10 s) makes one thread update per
// limits.thread_batch interval, and every text still shows in the thread.
func TestCallerFloodIsBatchedInTheThread(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		h.missedCall("CA50000000000000000000000000000010", caller, lettings)
		h.flush()
		for i := range 40 {
			if code, body := h.text(caller, lettings, fmt.Sprintf("flood %02d", i)); code/100 != 2 {
				t.Fatalf("sms webhook answered %d: %s", code, body)
			}
			h.flush()
			h.clock.Advance(250 * time.Millisecond)
		}
		h.clock.Advance(5 * time.Second)
		h.flush()
		_, thread := cardAndThread(h, "C0LETTINGS")
		for i := range 40 {
			if !strings.Contains(thread, fmt.Sprintf("> flood %02d", i)) {
				t.Fatalf("text %d missing from the thread:\n%s", i, thread)
			}
		}
		if n := strings.Count(thread, "Caller texted"); n > 4 {
			t.Errorf("%d thread entries for 40 texts in 10 s, want one per 5 s (≤ 4):\n%s", n, thread)
		}
	})
}
