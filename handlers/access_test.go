package handlers_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	rbdiscord "ringback/bot/discord"
)

// What a refusal must never show: the caller's number (in any form) or
// the case's card.
func revealsCaller(s string) bool {
	return strings.Contains(s, "900123") || strings.Contains(s, "Unclaimed")
}

// Staff work their own line's cases; Spam is for managers, on the card as
// in /callbacks; who is not staff reads no queue, in a command or the App
// Home, and no refusal shows them a caller.
func TestSlackWhoMaySeeAndDoWhat(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// Alice is in the Lettings channel only; Bob in both.
		h.missedCall("CAacc1", caller, maint)
		h.flush()
		m := h.openCase(caller, maint)
		mmsg, _ := h.card("C0MAINT")
		views := len(h.slack.Views())
		for _, action := range []string{"claim", "reply", "close"} {
			h.interact(click("U0ALICE", action, m.ID, "C0MAINT", mmsg.TS))
		}
		eph := h.slack.Ephemerals("U0ALICE")
		if len(eph) != 3 || !strings.Contains(eph[0].Text, "Only staff of this case's line") || revealsCaller(eph[0].Text) {
			t.Fatalf("another line's case: ephemerals to alice = %+v", eph)
		}
		if len(h.slack.Views()) != views {
			t.Fatal("a modal opened on another line's case")
		}
		if got := h.openCase(caller, maint); got.Owner != "" {
			t.Fatalf("staff of another line claimed: owner %s", got.Owner)
		}
		h.interact(click("U0BOB", "claim", m.ID, "C0MAINT", mmsg.TS))
		if got := h.openCase(caller, maint); got.Owner != "U0BOB" {
			t.Fatalf("the line's staff could not claim: owner %q", got.Owner)
		}

		// The card's Spam button is for managers, like /callbacks spam.
		c, msg, _ := h.slackCase("CAacc2")
		h.interact(click("U0ALICE", "spam", c.ID, "C0LETTINGS", msg.TS))
		if eph := h.slack.Ephemerals("U0ALICE"); !strings.Contains(eph[len(eph)-1].Text, "Only managers") {
			t.Fatalf("staff's spam: %+v", eph)
		}
		if got, _ := h.store.CaseByID(t.Context(), c.ID); got.Spam || got.State == "closed" {
			t.Fatal("staff put a caller on the spam list")
		}

		// Who is staff of no line reads nothing.
		for _, args := range []string{"", "mine", "overdue", "line Lettings", "stats", "templates", "spam 07700900123"} {
			_, body := h.postSlack("/slack/commands", url.Values{"command": {"/callbacks"}, "text": {args}, "user_id": {"U0VISITOR"}, "user_name": {"vic"}}.Encode(), time.Now(), slackSign)
			if !strings.Contains(body, "Only staff") || revealsCaller(body) || strings.Contains(body, "#") {
				t.Errorf("/callbacks %s by a visitor: %s", args, body)
			}
		}
		home, ok := h.openHome("U0VISITOR")
		if !ok || revealsCaller(string(home.JSON)) || strings.Contains(string(home.JSON), "#") || !strings.Contains(string(home.JSON), "Only staff") {
			t.Fatalf("a visitor's App Home: %s", home.JSON)
		}
		if home, _ := h.openHome("U0ALICE"); !revealsCaller(string(home.JSON)) {
			t.Fatalf("staff's App Home lacks the queue: %s", home.JSON)
		}
	})
}

func TestDiscordWhoMaySeeAndDoWhat(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, card := h.cardedCase("CAdacc1")
		// Neither the pickers nor a forged modal submission open for who
		// is not staff, and no refusal shows the caller.
		for _, p := range []map[string]any{
			component(dVisitor, "log_pick:"+id, dLettings, "1600000000000000001", "reached"),
			component(dVisitor, "close_pick:"+id, dLettings, "1600000000000000001", "booked"),
			component(dVisitor, "reply_pick:"+id, dLettings, "1600000000000000001", "callback_missed"),
			component(dVisitor, "spam:"+id, dLettings, card.ID),
			modalSubmit(dVisitor, "close:"+id+":booked", dLettings, "done"),
			modalSubmit(dVisitor, "log_callback:"+id+":reached", dLettings, "done"),
			slash(dVisitor, ""), slash(dVisitor, "stats"), slash(dVisitor, "templates"), slash(dVisitor, "line Lettings"),
		} {
			r := h.interact(p)
			if r.Type == 9 || !strings.Contains(r.Data.Content, "Only staff") || revealsCaller(r.raw) || len(r.ids()) != 0 {
				t.Errorf("%v by a visitor answered %s", p["data"], r.text())
			}
		}
		if got := h.openCase(caller, lettings); got.State != "open" || got.ContactAttempts != 0 {
			t.Fatalf("a visitor changed the case: %+v", got)
		}
		// Staff (the role) may; Spam stays for managers.
		staff := func(p map[string]any) map[string]any { p["member"] = member(dAlice, dStaffRole); return p }
		if r := h.interact(staff(component(dAlice, "log_pick:"+id, dLettings, "1600000000000000001", "reached"))); r.Type != 9 {
			t.Fatalf("staff's log pick answered %s", r.text())
		}
		if r := h.interact(staff(component(dAlice, "spam:"+id, dLettings, card.ID))); !strings.Contains(r.Data.Content, "Only managers") {
			t.Fatalf("staff's spam answered %s", r.text())
		}
	}, rbdiscord.WithStaffRole(dStaffRole))
}
