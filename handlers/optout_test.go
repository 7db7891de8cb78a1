package handlers_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"ringback/bot/slack/slackstandin"
)

const confirmation = "Northside Lettings: you won't get any more texts from us. Reply START to opt back in."

// command runs /callbacks text as userID through Slack's signed endpoint
// and returns the answer's text (its raw body when it is no JSON).
func (h *harness) command(userID, text string) string {
	h.t.Helper()
	code, body := h.postSlack("/slack/commands", url.Values{"command": {"/callbacks"}, "text": {text}, "user_id": {userID}}.Encode(), time.Now(), slackSign)
	if code != 200 {
		h.t.Fatalf("/callbacks %s: %d %s", text, code, body)
	}
	var answer struct{ Text string }
	if json.Unmarshal([]byte(body), &answer) != nil || answer.Text == "" {
		return body
	}
	return answer.Text
}

// callerTexts plays a missed call on Lettings, then the caller's text,
// and returns the case's card.
func (h *harness) callerTexts(callSID, body string) (slackstandin.Message, string) {
	h.t.Helper()
	h.missedCall(callSID, caller, lettings)
	h.flush()
	if code, answer := h.text(caller, lettings, body); code/100 != 2 {
		h.t.Fatalf("sms webhook answered %d: %s", code, answer)
	}
	h.flush()
	return h.card("C0LETTINGS")
}

func (h *harness) optedOut() bool {
	h.t.Helper()
	out, err := h.store.IsOptedOut(context.Background(), caller)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// The iPhone's curly apostrophe: "don’t text me" opts the caller out of
// every line, with one confirmation; nothing else is texted after it.
func TestCurlyApostropheOptOutCoversEveryLine(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.callerTexts("CA70000000000000000000000000000001", "don’t text me")
		if !h.optedOut() {
			t.Fatal(`"don’t text me" did not opt the caller out`)
		}
		texts := bodies(h.textsTo(caller))
		if len(texts) != 2 || texts[1] != confirmation {
			t.Fatalf("texts: %q; want the text-back and one confirmation", texts)
		}
		// Said again, in other words: no second confirmation.
		h.text(caller, lettings, "STOP please")
		h.flush()
		// A missed call on the other line is not texted back.
		h.clock.Advance(13 * time.Hour)
		h.missedCall("CA70000000000000000000000000000002", caller, maint)
		h.flush()
		if got := bodies(h.textsTo(caller)); len(got) != 2 {
			t.Fatalf("texted after the opt-out: %q", got)
		}
		if got := h.command("U0ALICE", "optouts"); !strings.Contains(got, "07700 900123") || !strings.Contains(got, "asked in their own words") ||
			!strings.Contains(got, "do not text me") || !strings.Contains(got, "on Lettings") || !strings.Contains(got, "<!date^") {
			t.Fatalf("/callbacks optouts: %s", got)
		}
	})
}

// "STOP please" is no keyword Twilio answers, so Ringback confirms it;
// a bare STOP Twilio confirms itself.
func TestStopPleaseIsConfirmedOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.callerTexts("CA70000000000000000000000000000003", "STOP please")
		if texts := bodies(h.textsTo(caller)); !h.optedOut() || len(texts) != 2 || texts[1] != confirmation {
			t.Fatalf("opted out %v; texts %q", h.optedOut(), texts)
		}
	})
}

// "I never text, call me instead" is not an opt-out: texts go on and the
// card asks nothing.
func TestNeverTextCallMeInsteadIsNoOptOut(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		msg, text := h.callerTexts("CA70000000000000000000000000000004", "I never text, call me instead")
		if h.optedOut() {
			t.Fatal(`"I never text, call me instead" opted the caller out`)
		}
		if n := len(h.textsTo(caller)); n != 1 {
			t.Fatalf("%d texts, want the text-back only", n)
		}
		if ids := slackstandin.ActionIDs(msg.Blocks); ids[0] != "claim" || strings.Contains(text, "Possible opt-out") {
			t.Fatalf("card asks about an opt-out: %v\n%s", ids, text)
		}
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "I never text, call me instead") {
			t.Fatalf("thread lacks the caller's text:\n%s", th)
		}
	})
}

// A possible opt-out stops nothing; the card asks, and a staff click on
// Opt out opts the caller out on every line, with one confirmation while
// the 5 minutes last; the ledger names who decided.
func TestPossibleOptOutAsksStaffAndOptOutClickOptsOut(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		msg, text := h.callerTexts("CA70000000000000000000000000000005", "wrong number, who is this?")
		if h.optedOut() {
			t.Fatal("a possible opt-out opted the caller out before staff decided")
		}
		if ids := slackstandin.ActionIDs(msg.Blocks); len(ids) < 2 || ids[0] != "opt_out" || ids[1] != "not_opt_out" ||
			!strings.Contains(text, "Possible opt-out — confirm?") || !strings.Contains(text, "wrong number, who is this?") {
			t.Fatalf("card does not ask: %v\n%s", ids, text)
		}
		if !strings.Contains(text, "Opt out") || !strings.Contains(text, "Not an opt-out") {
			t.Fatalf("buttons are not labelled:\n%s", text)
		}
		c := h.openCase(caller, lettings)
		h.clock.Advance(2 * time.Minute)
		if code, body := h.interact(click("U0ALICE", "opt_out", c.ID, "C0LETTINGS", msg.TS)); code != 200 {
			t.Fatalf("opt out click: %d %s", code, body)
		}
		h.flush()
		if !h.optedOut() {
			t.Fatal("the Opt out click did not opt the caller out")
		}
		if texts := bodies(h.textsTo(caller)); len(texts) != 2 || texts[1] != confirmation {
			t.Fatalf("texts: %q; want one confirmation", texts)
		}
		msg, text = h.card("C0LETTINGS")
		if ids := slackstandin.ActionIDs(msg.Blocks); ids[0] != "claim" || strings.Contains(text, "Possible opt-out") {
			t.Fatalf("the card still asks after the decision: %v\n%s", ids, text)
		}
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "<@U0ALICE> confirmed the opt-out") {
			t.Fatalf("thread:\n%s", th)
		}
		// A second click finds nothing left to decide.
		h.interact(click("U0BOB", "not_opt_out", c.ID, "C0LETTINGS", msg.TS))
		h.flush()
		if !h.optedOut() {
			t.Fatal("a late Not an opt-out click undid the decision")
		}
		if got := h.command("U0ALICE", "optouts"); !strings.Contains(got, "confirmed by <@U0ALICE>") || !strings.Contains(got, "wrong number") {
			t.Fatalf("/callbacks optouts: %s", got)
		}
	})
}

// Not an opt-out clears the question: texts go on, and the thread says
// who decided. A decision after the 5 minutes sends no confirmation.
func TestPossibleOptOutDismissedOrConfirmedLate(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		msg, _ := h.callerTexts("CA70000000000000000000000000000006", "not interested")
		c := h.openCase(caller, lettings)
		h.interact(click("U0BOB", "not_opt_out", c.ID, "C0LETTINGS", msg.TS))
		h.flush()
		msg, text := h.card("C0LETTINGS")
		if h.optedOut() || strings.Contains(text, "Possible opt-out") {
			t.Fatalf("after Not an opt-out: opted out %v, card:\n%s", h.optedOut(), text)
		}
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "<@U0BOB> marked the caller's text as not an opt-out") {
			t.Fatalf("thread:\n%s", th)
		}
		h.text(caller, lettings, "wrong number")
		h.flush()
		h.clock.Advance(6 * time.Minute)
		h.interact(click("U0ALICE", "opt_out", c.ID, "C0LETTINGS", msg.TS))
		h.flush()
		if !h.optedOut() || len(h.textsTo(caller)) != 1 {
			t.Fatalf("late opt-out: opted out %v, texts %q; want no confirmation", h.optedOut(), bodies(h.textsTo(caller)))
		}
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "no confirmation text") {
			t.Fatalf("thread does not say why no confirmation:\n%s", th)
		}
	})
}

// A confirmation Twilio could not take within 5 minutes is never sent.
func TestOptOutConfirmationNotSentAfterFiveMinutes(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missedCall("CA70000000000000000000000000000007", caller, lettings)
		h.flush()
		h.twilio.FailNext(1, 503, 0, 0)
		h.text(caller, lettings, "please stop texting me")
		h.flush()
		h.clock.Advance(6 * time.Minute)
		h.flush()
		if texts := bodies(h.textsTo(caller)); len(texts) != 1 {
			t.Fatalf("texts: %q; want no late confirmation", texts)
		}
		if !h.optedOut() {
			t.Fatal("not opted out")
		}
	})
}

// On Discord the possible opt-out's buttons do the same: Not an opt-out
// clears the question and opts nobody out.
func TestDiscordPossibleOptOutButtons(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c, id, _ := h.cardedCase("CA70000000000000000000000000000008")
		h.text(caller, lettings, "wrong number")
		h.flush()
		card := h.card(dLettings)
		if got := strings.Join(card.CustomIDs(), ","); !strings.HasPrefix(got, "opt_out:"+id+",not_opt_out:"+id+",claim:") {
			t.Fatalf("buttons: %s", got)
		}
		if r := h.interact(component(dBob, "not_opt_out:"+id, dLettings, card.ID)); r.Type != 6 {
			t.Fatalf("not an opt-out click: %s", r.text())
		}
		h.flush()
		if got := strings.Join(h.card(dLettings).CustomIDs(), ","); strings.Contains(got, "opt_out") || h.optedOut() {
			t.Fatalf("after Not an opt-out: buttons %s, opted out %v", got, h.optedOut())
		}
		if th := h.threadText(card.ID); !strings.Contains(th, "marked the caller's text as not an opt-out") {
			t.Fatalf("case %d thread:\n%s", c.ID, th)
		}
	})
}
