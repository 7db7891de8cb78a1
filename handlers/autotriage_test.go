package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"ringback/store"
)

// voicemailThenTranscript takes a call nobody answers to voicemail, then
// posts Twilio's transcription callback with transcript; it returns the
// case as that request left it, and how long the request took.
func voicemailThenTranscript(t *testing.T, h *harness, sid, from, transcript string) (store.Case, time.Duration) {
	t.Helper()
	h.postTwilio("/twilio/voice", voiceForm(sid, from, lettings))
	dialed := voiceForm(sid, from, lettings)
	dialed.Set("CallStatus", "in-progress")
	dialed.Set("DialCallStatus", "no-answer")
	if code, body := h.postTwilio("/twilio/voice/status", dialed); code != 200 {
		t.Fatalf("dial action: %d %s", code, body)
	}
	h.flush()
	start := time.Now()
	code, body := h.postTwilio("/twilio/voice/recording", url.Values{
		"CallSid": {sid}, "AccountSid": {accountSID}, "TranscriptionText": {transcript},
		"TranscriptionStatus": {"completed"}, "RecordingUrl": {"https://api.twilio.com/rec/RE" + sid},
	})
	took := time.Since(start)
	if code/100 != 2 {
		t.Fatalf("transcription callback: %d %s", code, body)
	}
	return h.openCase(from, lettings), took
}

// A voicemail transcript about a smell of gas makes the case urgent within
// the transcription callback: the page and the safety text are committed
// with it, and the thread says why. A transcript that says there is no
// smell of gas is a maintenance case, not urgent, and pages no one.
func TestVoicemailTranscriptAutoTriage(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		c, took := voicemailThenTranscript(t, h, "CAat1", caller, "there's a smell of gas in the kitchen")
		if !c.Urgent || c.Category != "urgent" {
			t.Fatalf("after the transcript: urgent=%v category=%q", c.Urgent, c.Category)
		}
		if took > time.Second {
			t.Fatalf("the transcription callback took %v", took)
		}
		h.flush()
		pages := bodies(h.textsTo(onCall))
		if len(pages) != 1 || !strings.Contains(pages[0], "URGENT") {
			t.Fatalf("on-call pages: %q", pages)
		}
		texts := bodies(h.textsTo(caller))
		if len(texts) != 2 || !strings.Contains(texts[1], "call 999") {
			t.Fatalf("texts to the caller (text-back, then safety): %q", texts)
		}
		card, thread := cardAndThread(h, "C0LETTINGS")
		if !strings.Contains(card, "URGENT") || !strings.Contains(card, "Urgent safety (auto-triaged: 'smell of gas' in voicemail)") ||
			!strings.Contains(thread, "URGENT: Auto-triaged Urgent safety: 'smell of gas' in voicemail") {
			t.Fatalf("card:\n%s\nthread:\n%s", card, thread)
		}
		// Twilio retries the callback: nothing more happens.
		h.postTwilio("/twilio/voice/recording", url.Values{
			"CallSid": {"CAat1"}, "AccountSid": {accountSID}, "TranscriptionText": {"there's a smell of gas in the kitchen"},
			"TranscriptionStatus": {"completed"}, "RecordingUrl": {"https://api.twilio.com/rec/RECAat1"},
		})
		h.flush()
		if len(h.textsTo(onCall)) != 1 || len(h.textsTo(caller)) != 2 {
			t.Fatal("a retried transcription callback paged or texted again")
		}

		other := "+447700900124"
		c, _ = voicemailThenTranscript(t, h, "CAat2", other, "no smell of gas, just a dripping tap")
		if c.Urgent || c.Category != "maintenance" {
			t.Fatalf("negated gas: urgent=%v category=%q", c.Urgent, c.Category)
		}
		h.flush()
		if len(h.textsTo(onCall)) != 1 || len(h.textsTo(other)) != 1 {
			t.Fatalf("negated gas paged or sent a safety text: %q %q", bodies(h.textsTo(onCall)), bodies(h.textsTo(other)))
		}
		events, err := h.store.EventsForCase(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var why string
		for _, e := range events {
			if e.Kind == "triaged" {
				why = string(e.Data)
			}
		}
		if !strings.Contains(why, `"by":"auto"`) || !strings.Contains(why, `"phrase":"dripping tap"`) {
			t.Fatalf("triage event: %s", why)
		}
	})
}

// A transcript that comes with a generic missed-call webhook is triaged
// in the same request that opens the case.
func TestGenericWebhookTranscriptAutoTriage(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		body := `{"id":"pbx-9","from":"+447700900123","to":"+441632960001","status":"voicemail","transcript":"Hi, a PIPE HAS BURST under the sink and there’s water everywhere"}`
		if code, resp := h.postGeneric(body, h.clock.Now(), hookSecret); code != 200 {
			t.Fatalf("generic webhook: %d %s", code, resp)
		}
		wantUrgentAndPaged(t, h, "Auto-triaged Urgent safety: 'pipe burst' in voicemail")
	})
}

// A caller's free-text reply through Twilio's SMS webhook is triaged too.
func TestSMSFreeTextAutoTriage(t *testing.T) {
	eachWith(t, designConfig, func(t *testing.T, h *harness) {
		missedThenText(t, h, "CAat3", "I’m LOCKED OUT and the kids are inside")
		wantUrgentAndPaged(t, h, "Auto-triaged Urgent safety: 'locked out' in a text")
	})
}

// missedThenText: a missed call from caller on the Lettings line, then the
// caller's text; the SMS webhook must answer 2xx.
func missedThenText(t *testing.T, h *harness, callSID, body string) {
	t.Helper()
	h.missedCall(callSID, caller, lettings)
	h.flush()
	if code, resp := h.text(caller, lettings, body); code/100 != 2 {
		t.Fatalf("sms webhook answered %d: %s", code, resp)
	}
}

// wantUrgentAndPaged: the caller's case is urgent as the request left it,
// on-call is paged once, and the thread says why.
func wantUrgentAndPaged(t *testing.T, h *harness, why string) {
	t.Helper()
	if c := h.openCase(caller, lettings); !c.Urgent || c.Category != "urgent" {
		t.Fatalf("urgent=%v category=%q, want urgent", c.Urgent, c.Category)
	}
	h.flush()
	if pages := h.textsTo(onCall); len(pages) != 1 {
		t.Fatalf("on-call paged %d times", len(pages))
	}
	if _, thread := cardAndThread(h, "C0LETTINGS"); !strings.Contains(thread, why) {
		t.Fatalf("thread lacks %q:\n%s", why, thread)
	}
}
