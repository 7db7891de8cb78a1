package handlers_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"ringback/store"
)

const farCaller, nextCaller = "+447700900555", "+447700900666"

// firedFor counts a case's escalation steps that fired.
func (h *harness) firedFor(caseID int64) int {
	h.t.Helper()
	var n int
	if err := h.store.DB().Get(&n, h.store.DB().Rebind(`SELECT COUNT(*) FROM events WHERE case_id = ? AND kind = 'escalated'`), caseID); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// callbacks runs /callbacks as Alice and returns its answer.
func (h *harness) callbacks() string {
	h.t.Helper()
	code, body := h.postSlack("/slack/commands", url.Values{"command": {"/callbacks"}, "user_id": {"U0ALICE"}}.Encode(), time.Now(), slackSign)
	if code != 200 {
		h.t.Fatalf("/callbacks: %d %s", code, body)
	}
	return body
}

// A phone system with a wrong clock (a signed /calls event, a Twilio
// Timestamp dated 9999-12-31) opens cases as of now, and every case's
// timers and the queue keep working.
func TestFarFutureCallTimesAreTakenAsNow(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		now := h.clock.Now()
		body := `{"id":"far-1","from":"` + farCaller + `","to":"` + lettings + `","started_at":"9999-12-31T23:59:00Z","status":"missed"}`
		if code, resp := h.postGeneric(body, now, hookSecret); code != 200 {
			t.Fatalf("/calls: %d %s", code, resp)
		}
		code, resp := h.postTwilio("/twilio/voice/status", url.Values{
			"CallSid": {"CAfar2"}, "From": {nextCaller}, "To": {maint}, "CallStatus": {"no-answer"},
			"Direction": {"inbound"}, "Timestamp": {"Fri, 31 Dec 9999 23:59:00 +0000"},
		})
		if code != 200 {
			t.Fatalf("twilio status: %d %s", code, resp)
		}
		h.missedCall("CAnormal", caller, lettings)
		h.flush()
		for _, number := range []string{farCaller, nextCaller} {
			line := lettings
			if number == nextCaller {
				line = maint
			}
			if c := h.openCase(number, line); !c.CreatedAt.Equal(now) {
				t.Errorf("case of %s created at %s, want now (%s)", number, c.CreatedAt, now)
			}
		}
		h.text(farCaller, lettings, "2") // triage sets a due time from the case's start
		h.flush()
		h.clock.Advance(11 * time.Minute)
		if err := h.bot.Tick(t.Context()); err != nil {
			t.Fatalf("tick: %v", err)
		}
		if n := h.firedFor(h.openCase(caller, lettings).ID); n == 0 {
			t.Error("the other case's escalation did not fire")
		}
		if body := h.callbacks(); strings.Contains(body, "went wrong") || !strings.Contains(body, "#") {
			t.Errorf("/callbacks answered %s", body)
		}
	})
}

// A due escalation row that cannot be read (a year 10000 left by an older
// version on SQLite, -infinity on PostgreSQL) is skipped and canceled; the
// other cases' escalations still fire.
func TestUnreadableEscalationIsSkipped(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missedCall("CAbad", farCaller, lettings)
		h.missedCall("CAgood", caller, lettings)
		h.flush()
		bad := h.openCase(farCaller, lettings)
		poison := map[string]string{"sqlite": "10000-01-01 00:00:00+00:00", "postgres": "-infinity"}[h.store.Dialect()]
		db := h.store.DB()
		if _, err := db.Exec(db.Rebind(`UPDATE case_escalations SET fire_at = ?, step_at = ? WHERE case_id = ?`), poison, poison, bad.ID); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(11 * time.Minute)
		for range 2 {
			if err := h.bot.Tick(t.Context()); err != nil {
				t.Fatalf("tick: %v", err)
			}
		}
		if n := h.firedFor(h.openCase(caller, lettings).ID); n == 0 {
			t.Error("the good case's escalation did not fire")
		}
		var pending int
		if err := db.Get(&pending, db.Rebind(`SELECT COUNT(*) FROM case_escalations WHERE case_id = ? AND fire_at IS NOT NULL`), bad.ID); err != nil || pending != 0 {
			t.Errorf("%d unreadable rows still pending (%v): they would be tried forever", pending, err)
		}
		if body := h.callbacks(); strings.Contains(body, "went wrong") {
			t.Errorf("/callbacks answered %s", body)
		}
	})
}

// NUL bytes, invalid UTF-8 and huge integers from outside are stored the
// same on both stores, never a 500 that loses the message.
func TestBadBytesAreCleanedOnEveryStore(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		h.missedCall("CAbytes", caller, lettings)
		code, resp := h.postTwilio("/twilio/sms", url.Values{
			"MessageSid": {"SM\x00nul\xff"}, "From": {caller}, "To": {lettings},
			"Body": {"boiler\x00 is off \xff\xfe!"}, "NumMedia": {"1"}, "MediaUrl0": {"https://api.twilio.com/m/0"},
		})
		if code != 200 {
			t.Fatalf("sms: %d %s", code, resp)
		}
		m, err := h.store.MessageBySID(ctx, "SMnul\uFFFD")
		if err != nil || m.Body != "boiler is off \uFFFD!" || !strings.Contains(m.MediaURLs, "/m/0") {
			t.Errorf("message = %+v, %v", m, err)
		}
		body := `{"id":"nul\u0000id","from":"` + farCaller + `","to":"` + lettings + `","status":"voicemail","transcript":"call me\u0000 back \ud800"}`
		if code, resp := h.postGeneric(body, h.clock.Now(), hookSecret); code != 200 {
			t.Fatalf("/calls: %d %s", code, resp)
		}
		if c, err := h.store.CallBySID(ctx, "generic:nulid"); err != nil || c.Transcript != "call me back \uFFFD" {
			t.Errorf("generic call = %+v, %v", c, err)
		}
		form := url.Values{"CallSid": {"CAlong"}, "From": {nextCaller}, "To": {lettings}, "CallStatus": {"completed"},
			"Direction": {"inbound"}, "CallDuration": {"2147483648"}}
		if code, resp := h.postTwilio("/twilio/voice/status", form); code != 200 {
			t.Fatalf("CallDuration 2^31: %d %s", code, resp)
		}
		if c, err := h.store.CallBySID(ctx, "CAlong"); err != nil || c.DurationS != 24*60*60 {
			t.Errorf("call = %+v, %v; want its duration bounded to a day", c, err)
		}
		form.Set("CallSid", "CAnan")
		form.Set("CallDuration", "12 minutes")
		if code, _ := h.postTwilio("/twilio/voice/status", form); code != 400 {
			t.Errorf("CallDuration %q: %d, want 400", form.Get("CallDuration"), code)
		}
		if _, err := h.store.CallBySID(ctx, "CAnan"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused call was stored: %v", err)
		}
		// Twilio sends at most 10 attachments; a NumMedia of two billion is
		// not a loop of two billion.
		code, resp = h.postTwilio("/twilio/sms", url.Values{"MessageSid": {"SMmany"}, "From": {caller}, "To": {lettings},
			"Body": {"pics"}, "NumMedia": {"2000000000"}, "MediaUrl3": {"https://api.twilio.com/m/3"}})
		if m, err := h.store.MessageBySID(ctx, "SMmany"); code != 200 || err != nil || !strings.Contains(m.MediaURLs, "/m/3") {
			t.Errorf("NumMedia 2e9: %d %s, %+v, %v", code, resp, m, err)
		}
	})
}

// A Slack name of no-break spaces cannot add words to an approved text:
// {{agent}} is the plain first name.
func TestAgentNameCannotInjectText(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.slack.AddUser("U0EVE", "eve", "Eve\u00a0here.\u00a0Pay\u00a0£500\u00a0at\u00a0evil.example")
		h.slack.SetMembers("C0LETTINGS", "U0ALICE", "U0BOB", "U0EVE")
		h.missedCall("CAeve", caller, lettings)
		h.flush()
		msg, _ := h.card("C0LETTINGS")
		h.interact(click("U0EVE", "reply", h.openCase(caller, lettings).ID, "C0LETTINGS", msg.TS))
		if code, body := h.interact(submit("U0EVE", lastView(h), map[string]any{"template": selected("template", "callback_missed")})); code != 200 || strings.Contains(body, "errors") {
			t.Fatalf("reply submit: %d %s", code, body)
		}
		h.flush()
		texts := h.textsTo(caller)
		if last := texts[len(texts)-1].Body; !strings.HasPrefix(last, "Sorry we missed you, Eve tried to call you back from") {
			t.Fatalf("reply sent as %q", last)
		}
	})
}
