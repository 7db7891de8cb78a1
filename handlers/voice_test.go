package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

func voiceForm(sid, from, to string) url.Values {
	return url.Values{"CallSid": {sid}, "AccountSid": {accountSID}, "From": {from}, "To": {to}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
}

func TestVoiceInHoursRingsStaffThenVoicemail(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		code, twiml := h.postTwilio("/twilio/voice", voiceForm("CAv1", caller, lettings))
		if code != 200 {
			t.Fatal(code)
		}
		dial, ok := parseTwiML(t, twiml).find("Dial")
		if !ok || dial.attr("action") != publicURL+"/twilio/voice/status" || dial.attr("timeout") != "18" {
			t.Fatalf("TwiML dial:\n%s", twiml)
		}
		if nums := dial.all("Number"); len(nums) != 2 || nums[0].Text != "+447700900001" || nums[1].Text != "+447700900002" {
			t.Fatalf("numbers rung: %+v", nums)
		}
		if h.count("cases") != 0 {
			t.Fatal("a ringing call opened a case")
		}
		// Nobody picks up: Twilio posts the <Dial action>; Ringback answers
		// with voicemail and opens the case at once.
		form := voiceForm("CAv1", caller, lettings)
		form.Set("CallStatus", "in-progress")
		form.Set("DialCallStatus", "no-answer")
		code, twiml = h.postTwilio("/twilio/voice/status", form)
		if rec, ok := parseTwiML(t, twiml).find("Record"); code != 200 || !ok || rec.attr("transcribe") != "true" {
			t.Fatalf("dial action: %d\n%s", code, twiml)
		}
		h.flush()
		if len(h.textsTo(caller)) != 1 {
			t.Fatal("no text-back after an unanswered dial")
		}
		// The caller leaves a message; the <Record> action arrives.
		rec := voiceForm("CAv1", caller, lettings)
		rec.Set("RecordingUrl", "https://api.twilio.com/rec/RE1")
		rec.Set("RecordingDuration", "12")
		if code, twiml := h.postTwilio("/twilio/voice/recording", rec); code != 200 || len(parseTwiML(t, twiml).all("Hangup")) != 1 {
			t.Fatalf("record action: %d %s", code, twiml)
		}
		// The final "completed" status changes nothing.
		done := voiceForm("CAv1", caller, lettings)
		done.Set("CallStatus", "completed")
		h.postTwilio("/twilio/voice/status", done)
		// The transcript comes later on its own.
		h.postTwilio("/twilio/voice/recording", url.Values{"CallSid": {"CAv1"}, "TranscriptionText": {"Please call me about the flat"}, "TranscriptionStatus": {"completed"}, "RecordingUrl": {"https://api.twilio.com/rec/RE1"}})
		h.flush()
		c := h.openCase(caller, lettings)
		if c.CallCount != 1 || c.VoicemailURL != "https://api.twilio.com/rec/RE1" || c.Transcript != "Please call me about the flat" {
			t.Fatalf("case = %+v", c)
		}
		if len(h.textsTo(caller)) != 1 {
			t.Fatal("more than one text for one call")
		}
	})
}

func TestVoiceAnsweredByStaffIsNotMissed(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.postTwilio("/twilio/voice", voiceForm("CAv2", caller, lettings))
		form := voiceForm("CAv2", caller, lettings)
		form.Set("DialCallStatus", "completed")
		h.postTwilio("/twilio/voice/status", form)
		form.Del("DialCallStatus")
		form.Set("CallStatus", "completed")
		h.postTwilio("/twilio/voice/status", form)
		if h.count("cases") != 0 {
			t.Fatal("an answered call opened a case")
		}
	})
}

func TestVoiceAfterHoursOffersOnCallAndCountsHangUpsAsMissed(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.clock.Set(time.Date(2026, 11, 16, 22, 0, 0, 0, time.UTC)) // Monday 22:00 London: closed
		code, twiml := h.postTwilio("/twilio/voice", voiceForm("CAv3", caller, maint))
		gather, ok := parseTwiML(t, twiml).find("Gather")
		if code != 200 || !ok || gather.attr("action") != publicURL+"/twilio/voice?step=menu" || gather.attr("numDigits") != "1" || !strings.Contains(twiml, "press 9") {
			t.Fatalf("after-hours TwiML:\n%s", twiml)
		}
		if rec, ok := parseTwiML(t, twiml).find("Record"); !ok || rec.attr("transcribeCallback") != publicURL+"/twilio/voice/recording" {
			t.Fatalf("after-hours voicemail:\n%s", twiml)
		}
		// Caller presses 9: forwarded to on-call.
		menu := voiceForm("CAv3", caller, maint)
		menu.Set("Digits", "9")
		_, twiml = h.postTwilio("/twilio/voice?step=menu", menu)
		if n, ok := parseTwiML(t, twiml).find("Number"); !ok || n.Text != "+447700900999" {
			t.Fatalf("press 9:\n%s", twiml)
		}
		// Another caller hangs up during the greeting: Twilio says only
		// "completed", but nobody answered: missed, after hours.
		h.postTwilio("/twilio/voice", voiceForm("CAv4", "+447700900124", lettings))
		done := voiceForm("CAv4", "+447700900124", lettings)
		done.Set("CallStatus", "completed")
		h.postTwilio("/twilio/voice/status", done)
		h.flush()
		c := h.openCase("+447700900124", lettings)
		if !c.AfterHours {
			t.Fatal("not marked after hours")
		}
		texts := h.textsTo("+447700900124")
		if len(texts) != 1 || !strings.Contains(texts[0].Body, "closed right now") {
			t.Fatalf("after-hours text-back = %+v", texts)
		}
	})
}

func TestCooldownSpansLines(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missed("CAcd1", caller, lettings)
		h.clock.Advance(2 * time.Hour)
		h.missedCall("CAcd2", caller, maint) // another line, 2 h later: within 12 h
		h.flush()
		if n := len(h.textsTo(caller)); n != 1 {
			t.Fatalf("texts = %d, want 1 (cooldown)", n)
		}
		if got := h.openCase(caller, maint).TextbackStatus; !strings.Contains(got, "cooldown 12h") {
			t.Fatalf("status = %q", got)
		}
		// Close it and call again after the cooldown: a new case links to
		// the previous one and is texted.
		c := h.openCase(caller, maint)
		c.State = "closed"
		h.store.UpdateCase(context.Background(), c)
		h.clock.Advance(13 * time.Hour)
		next := h.missed("CAcd3", caller, maint)
		if next.ID == c.ID || next.PreviousCaseID == nil || *next.PreviousCaseID != c.ID {
			t.Fatalf("new case %d previous %v, want a new case linked to %d", next.ID, next.PreviousCaseID, c.ID)
		}
		if n := len(h.textsTo(caller)); n != 2 {
			t.Fatalf("texts = %d, want 2", n)
		}
	})
}

func TestDelayedTextBackCanceledWhenTheNextCallIsAnswered(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		line, _ := h.bot.Config().LineByName("Lettings")
		line.TextBack.Delay = 2 * time.Minute
		h.missed("CAd1", caller, lettings)
		if n := len(h.textsTo(caller)); n != 0 {
			t.Fatal("texted before the line's delay")
		}
		// The caller rings again a minute later and gets through.
		h.clock.Advance(time.Minute)
		answered := voiceForm("CAd2", caller, lettings)
		answered.Set("CallStatus", "completed")
		answered.Set("DialCallStatus", "completed")
		if code, _ := h.postTwilio("/twilio/voice/status", answered); code != 200 {
			t.Fatal(code)
		}
		h.clock.Advance(5 * time.Minute)
		h.flush()
		if n := len(h.textsTo(caller)); n != 0 {
			t.Fatal("a delayed text-back went out after the caller was answered")
		}
		if got := h.openCase(caller, lettings).TextbackStatus; !strings.Contains(got, "answered") {
			t.Fatalf("status = %q", got)
		}

		// Without an answered call the delayed text goes out after the delay.
		h.missedCall("CAd3", "+447700900555", lettings)
		h.clock.Advance(119 * time.Second)
		h.flush()
		if n := len(h.textsTo("+447700900555")); n != 0 {
			t.Fatal("sent before the delay")
		}
		h.clock.Advance(time.Second)
		h.flush()
		if n := len(h.textsTo("+447700900555")); n != 1 {
			t.Fatalf("delayed text-back: %d", n)
		}
	})
}
