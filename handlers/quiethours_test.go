package handlers_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/store"
)

// A reply to a caller in their quiet hours: the Reply modal shows their
// local time and both choices; "Send at 08:00" queues the text for 08:00
// in the caller's time, and the thread says so.
func TestSlackReplyInQuietHoursCanWaitForTheCallersWindow(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.floridaAfterEight("CAq0000000000000000000000000000001")
		msg, _ := h.card("C0LETTINGS")

		h.interact(click("U0ALICE", "reply", c.ID, "C0LETTINGS", msg.TS))
		v := lastView(h)
		modal := string(v.JSON)
		for _, want := range []string{"It is *20:30* for the caller", "08:00–20:00 (Florida law)", `"text":"Send at 08:00"`, `"text":"Send now"`, `"radio_buttons"`} {
			if !strings.Contains(modal, want) {
				t.Fatalf("reply modal lacks %s:\n%s", want, modal)
			}
		}
		code, body := h.interact(submit("U0ALICE", v, map[string]any{
			"template": selected("template", "callback_missed"),
			"when":     map[string]any{"when": map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"value": "later", "text": map[string]any{"type": "plain_text", "text": "Send at 08:00"}}}},
		}))
		if code != 200 || strings.Contains(body, "errors") {
			t.Fatalf("reply submit: %d %s", code, body)
		}
		h.flush()
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "<@U0ALICE> scheduled a reply for 08:00 (caller's time)") || !strings.Contains(th, "Alice tried to call you back") {
			t.Fatalf("thread:\n%s", th)
		}

		h.heldUntil(miamiOpens)
	})
}

// In the caller's window the Reply modal is as it always was: no choice of
// when, Send sends now.
func TestSlackReplyInTheCallersWindowHasNoChoiceOfWhen(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, msg, _ := h.slackCase("CAq0000000000000000000000000000002")
		h.interact(click("U0ALICE", "reply", c.ID, "C0LETTINGS", msg.TS))
		if v := lastView(h); strings.Contains(string(v.JSON), "Send at") || strings.Contains(string(v.JSON), "for the caller") {
			t.Fatalf("reply modal at 10:00 for the caller offers a later send:\n%s", v.JSON)
		}
	})
}

// Monday 16 November 2026, 20:30 in Miami (past Florida's 20:00), and
// 08:00 the next morning there.
var (
	miamiEvening = time.Date(2026, 11, 17, 1, 30, 0, 0, time.UTC)
	miamiOpens   = time.Date(2026, 11, 17, 13, 0, 0, 0, time.UTC)
)

const florida = "+13055550123"

// floridaAfterEight plays a missed call on Lettings from a Florida number
// at 20:30 its time and returns the case.
func (h *harness) floridaAfterEight(sid string) store.Case {
	h.t.Helper()
	h.clock.Set(miamiEvening)
	h.missedCall(sid, florida, lettings)
	h.flush()
	return h.openCase(florida, lettings)
}

// heldUntil checks that the Florida caller got only the text-back until
// 08:00 their time, and the reply at 08:00.
func (h *harness) heldUntil(opens time.Time) {
	h.t.Helper()
	for _, at := range []time.Time{h.clock.Now(), opens.Add(-time.Minute)} {
		h.clock.Set(at)
		h.flush()
		if texts := h.textsTo(florida); len(texts) != 1 {
			h.t.Fatalf("at %s the caller has %d texts, want only the text-back", at.Format(time.RFC3339), len(texts))
		}
	}
	h.clock.Set(opens)
	h.flush()
	if texts := h.textsTo(florida); len(texts) != 2 || !strings.HasPrefix(texts[1].Body, "Sorry we missed you, Alice tried to call you back") {
		h.t.Fatalf("texts to the caller at 08:00 = %+v", texts)
	}
}

// Discord: the preview in quiet hours offers "Send at 08:00" beside "Send
// now", and the first queues the text for then.
func TestDiscordReplyInQuietHoursCanWaitForTheCallersWindow(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		c := h.floridaAfterEight("CAq0000000000000000000000000000003")
		card := h.card(dLettings)
		id := strconv.FormatInt(c.ID, 10)
		h.interact(component(dAlice, "reply:"+id, dLettings, card.ID))
		r := h.interact(component(dAlice, "reply_pick:"+id, dLettings, "1600000000000000002", "callback_missed"))
		if !strings.Contains(r.Data.Content, "It is **20:30** for the caller") || !slices.Contains(r.ids(), "reply_later:"+id+":callback_missed") ||
			!slices.Contains(r.ids(), "reply_send:"+id+":callback_missed") || !strings.Contains(r.raw, `"Send at 08:00"`) || !strings.Contains(r.raw, `"Send now"`) {
			t.Fatalf("preview in quiet hours answered %s", r.raw)
		}
		r = h.interact(component(dAlice, "reply_later:"+id+":callback_missed", dLettings, "1600000000000000002"))
		if r.Type != 7 || !strings.Contains(r.Data.Content, "at 08:00, the caller's time") {
			t.Fatalf("send at 08:00 answered %s", r.text())
		}
		h.heldUntil(miamiOpens)
	})
}
