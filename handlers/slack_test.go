package handlers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/bot/slack/slackstandin"
	"ringback/store"
)

// postSlack posts body as Slack would: signed with the signing secret at ts.
func (h *harness) postSlack(path, body string, ts time.Time, secret string) (int, string) {
	h.t.Helper()
	return h.do(slackRequest(h.server.URL+path, body, ts, secret))
}

// slackRequest is body posted to url as Slack would: signed at ts.
func slackRequest(url, body string, ts time.Time, secret string) *http.Request {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", stamp, body)
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return req
}

// slackEvent posts an Events API body as Slack would.
func (h *harness) slackEvent(body string) (int, string) {
	h.t.Helper()
	req := slackRequest(h.server.URL+"/slack/events", body, time.Now(), slackSign)
	req.Header.Set("Content-Type", "application/json")
	return h.do(req)
}

// openHome is user opening Ringback's App Home; it returns the view
// published for them.
func (h *harness) openHome(user string) (slackstandin.View, bool) {
	h.t.Helper()
	code, _ := h.slackEvent(`{"token":"x","team_id":"T0","api_app_id":"A0","type":"event_callback","event_id":"Ev1","event_time":1763287200,
			"event":{"type":"app_home_opened","user":"` + user + `","channel":"D0","tab":"home","event_ts":"1763287200.000100"}}`)
	if code != 200 {
		h.t.Fatalf("app_home_opened: %d", code)
	}
	return h.slack.HomeView(user)
}

func (h *harness) interact(payload map[string]any) (int, string) {
	h.t.Helper()
	raw, _ := json.Marshal(payload)
	return h.postSlack("/slack/interactions", url.Values{"payload": {string(raw)}}.Encode(), time.Now(), slackSign)
}

func user(id string) map[string]any {
	return map[string]any{"id": id, "username": strings.ToLower(id), "name": strings.ToLower(id), "team_id": slackstandin.TeamID}
}

// click is a block_actions payload shaped like Slack's for a card button.
func click(userID, action string, caseID int64, channel, ts string) map[string]any {
	id := strconv.FormatInt(caseID, 10)
	return map[string]any{
		"type": "block_actions", "user": user(userID), "api_app_id": slackstandin.AppID, "token": "legacy",
		"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id": "1337." + userID + "." + action, "team": map[string]any{"id": slackstandin.TeamID, "domain": "northside"},
		"channel": map[string]any{"id": channel, "name": "lettings"}, "message": map[string]any{"ts": ts, "type": "message"},
		"response_url": "https://hooks.slack.example/actions/T0/1/abc",
		"actions": []any{map[string]any{
			"action_id": action, "block_id": "case:" + id, "type": "button", "value": id, "action_ts": "1763287300.000100",
			"text": map[string]any{"type": "plain_text", "text": action, "emoji": true},
		}},
	}
}

// submit is a view_submission payload for a modal the bot opened.
func submit(userID string, view slackstandin.View, values map[string]any) map[string]any {
	return map[string]any{
		"type": "view_submission", "user": user(userID), "team": map[string]any{"id": slackstandin.TeamID}, "api_app_id": slackstandin.AppID,
		"trigger_id": "1338." + userID,
		"view": map[string]any{
			"id": view.ID, "type": "modal", "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata,
			"hash": view.Hash, "state": map[string]any{"values": values},
		},
	}
}

func selected(block, value string) map[string]any {
	return map[string]any{block: map[string]any{"type": "static_select", "selected_option": map[string]any{"value": value, "text": map[string]any{"type": "plain_text", "text": value}}}}
}

func typed(block, value string) map[string]any {
	return map[string]any{block: map[string]any{"type": "plain_text_input", "value": value}}
}

// card returns the case's card in its channel, and its texts.
func (h *harness) card(channel string) (slackstandin.Message, string) {
	h.t.Helper()
	msgs := h.slack.Messages(channel)
	if len(msgs) != 1 {
		h.t.Fatalf("%d messages in %s, want exactly one card", len(msgs), channel)
	}
	return msgs[0], strings.Join(slackstandin.BlockTexts(msgs[0].Blocks), "\n")
}

func (h *harness) threadTexts(channel, ts string) string {
	var parts []string
	for _, m := range h.slack.Thread(channel, ts)[1:] {
		parts = append(parts, m.Text)
	}
	return strings.Join(parts, "\n")
}

// slackCase plays a missed call on Lettings and returns its open case and
// its card with the card's text.
func (h *harness) slackCase(sid string) (store.Case, slackstandin.Message, string) {
	h.t.Helper()
	return h.slackCaseOn(sid, lettings, "C0LETTINGS")
}

// slackCaseOn plays a missed call on line, whose channel is channel.
func (h *harness) slackCaseOn(sid, line, channel string) (store.Case, slackstandin.Message, string) {
	h.t.Helper()
	h.missedCall(sid, caller, line)
	h.flush()
	c := h.openCase(caller, line)
	msg, text := h.card(channel)
	return c, msg, text
}

func lastView(h *harness) slackstandin.View {
	vs := h.slack.Views()
	if len(vs) == 0 {
		h.t.Fatal("no modal opened")
	}
	return vs[len(vs)-1]
}

func TestSlackCaseLifecycle(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// Missed call → one card in the line's channel.
		c, msg, text := h.slackCase("CAs0000000000000000000000000000001")
		if !strings.Contains(text, "#"+strconv.FormatInt(c.ID, 10)) || !strings.Contains(text, "07700 900123") || !strings.Contains(text, "Unclaimed") {
			t.Fatalf("card text:\n%s", text)
		}
		if ids := slackstandin.ActionIDs(msg.Blocks); strings.Join(ids, ",") != "claim,reply,log_callback,close,spam,reassign,category" {
			t.Fatalf("buttons = %v", ids)
		}

		// Claim → the same card shows the owner.
		if code, body := h.interact(click("U0ALICE", "claim", c.ID, "C0LETTINGS", msg.TS)); code != 200 {
			t.Fatalf("claim: %d %s", code, body)
		}
		h.flush()
		msg, text = h.card("C0LETTINGS")
		if msg.Updates == 0 || !strings.Contains(text, "<@U0ALICE>") {
			t.Fatalf("card after claim (updates %d):\n%s", msg.Updates, text)
		}
		if ids := slackstandin.ActionIDs(msg.Blocks); ids[0] != "release" {
			t.Fatalf("buttons after claim = %v", ids)
		}
		// The thread names Alice: a mention would notify her of her own click.
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "*Alice Jones* claimed the case") || strings.Contains(th, "<@U0ALICE>") {
			t.Fatalf("thread:\n%s", th)
		}

		// A second Claim → an ephemeral refusal naming the owner.
		h.interact(click("U0BOB", "claim", c.ID, "C0LETTINGS", msg.TS))
		eph := h.slack.Ephemerals("U0BOB")
		if len(eph) != 1 || !strings.Contains(eph[0].Text, "already claimed by <@U0ALICE>") {
			t.Fatalf("ephemerals to bob = %+v", eph)
		}
		if got := h.openCase(caller, lettings); got.Owner != "U0ALICE" {
			t.Fatalf("owner = %s", got.Owner)
		}

		// Reply: modal with templates, live preview, submit → SMS + thread.
		h.interact(click("U0ALICE", "reply", c.ID, "C0LETTINGS", msg.TS))
		v := lastView(h)
		if v.CallbackID != "reply" || !strings.Contains(string(v.JSON), "callback_missed") {
			t.Fatalf("reply modal = %s", v.JSON)
		}
		preview := map[string]any{
			"type": "block_actions", "user": user("U0ALICE"), "team": map[string]any{"id": slackstandin.TeamID}, "trigger_id": "1339",
			"view": map[string]any{"id": v.ID, "type": "modal", "callback_id": "reply", "private_metadata": v.PrivateMetadata, "hash": v.Hash},
			"actions": []any{map[string]any{"action_id": "template", "block_id": "template", "type": "static_select",
				"selected_option": map[string]any{"value": "callback_missed", "text": map[string]any{"type": "plain_text", "text": "callback missed"}}}},
		}
		h.interact(preview)
		v = lastView(h)
		if !strings.Contains(string(v.JSON), "Alice tried to call you back") || !strings.Contains(string(v.JSON), "SMS segment") {
			t.Fatalf("preview not shown: %s", v.JSON)
		}
		code, body := h.interact(submit("U0ALICE", v, map[string]any{"template": selected("template", "callback_missed")}))
		if code != 200 || strings.Contains(body, "errors") {
			t.Fatalf("reply submit: %d %s", code, body)
		}
		h.flush()
		texts := h.textsTo(caller)
		if len(texts) != 2 || !strings.HasPrefix(texts[1].Body, "Sorry we missed you, Alice tried to call you back") {
			t.Fatalf("texts to caller = %+v", texts)
		}
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "Alice tried to call you back") {
			t.Fatalf("reply not in thread:\n%s", th)
		}

		// The caller's SMS lands in the thread, escaped.
		h.texted(caller, lettings, "Call me after 5 <!channel>")
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "Call me after 5 &lt;!channel&gt;") || strings.Contains(th, "<!channel>") {
			t.Fatalf("caller text in thread:\n%s", th)
		}

		// /callbacks lists the case.
		code, body = h.postSlack("/slack/commands", url.Values{"command": {"/callbacks"}, "text": {""}, "user_id": {"U0BOB"}, "user_name": {"bob"}, "channel_id": {"C0LETTINGS"}}.Encode(), time.Now(), slackSign)
		if code != 200 || !strings.Contains(body, `"response_type":"ephemeral"`) || !strings.Contains(body, "#"+strconv.FormatInt(c.ID, 10)) || !strings.Contains(body, "replied") {
			t.Fatalf("/callbacks: %d %s", code, body)
		}
		if !strings.Contains(body, slackstandin.PermalinkHost) && !strings.Contains(body, "/archives/C0LETTINGS/p") {
			t.Fatalf("/callbacks has no link to the card: %s", body)
		}

		// Close without a note → the modal says so; with a note → collapsed card.
		h.interact(click("U0ALICE", "close", c.ID, "C0LETTINGS", msg.TS))
		v = lastView(h)
		values := map[string]any{"outcome": selected("outcome", "booked"), "note": typed("note", "  ")}
		if code, body := h.interact(submit("U0ALICE", v, values)); code != 200 || !strings.Contains(body, `"response_action":"errors"`) || !strings.Contains(body, "note") {
			t.Fatalf("close without note: %d %s", code, body)
		}
		values["note"] = typed("note", "Viewing booked Thu 2pm")
		if code, body := h.interact(submit("U0ALICE", v, values)); code != 200 || strings.Contains(body, "errors") {
			t.Fatalf("close: %d %s", code, body)
		}
		h.flush()
		msg, text = h.card("C0LETTINGS")
		if !strings.Contains(text, "booked") || !strings.Contains(text, "Viewing booked Thu 2pm") {
			t.Fatalf("closed card:\n%s", text)
		}
		if ids := slackstandin.ActionIDs(msg.Blocks); len(ids) != 1 || ids[0] != "reopen" {
			t.Fatalf("closed card buttons = %v", ids)
		}
		if got, _ := h.store.CaseByID(t.Context(), c.ID); got.State != store.CaseClosed {
			t.Fatalf("state = %s", got.State)
		}
	})
}

func TestSlackRefusesForgedAndStaleRequests(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, msg, _ := h.slackCase("CAs1")
		raw, _ := json.Marshal(click("U0ALICE", "claim", c.ID, "C0LETTINGS", msg.TS))
		body := url.Values{"payload": {string(raw)}}.Encode()
		if code, _ := h.postSlack("/slack/interactions", body, time.Now(), "wrong-secret"); code != http.StatusUnauthorized {
			t.Errorf("forged: %d", code)
		}
		if code, _ := h.postSlack("/slack/interactions", body, time.Now().Add(-6*time.Minute), slackSign); code != http.StatusUnauthorized {
			t.Errorf("six minutes old: %d", code)
		}
		req, _ := http.NewRequest("POST", h.server.URL+"/slack/interactions", strings.NewReader(body))
		if code, _ := h.do(req); code != http.StatusUnauthorized {
			t.Errorf("unsigned: %d", code)
		}
		if got := h.openCase(caller, lettings); got.Owner != "" {
			t.Fatal("a refused request claimed the case")
		}
		// A replay of a good request is refused too.
		stamp := time.Now()
		if code, _ := h.postSlack("/slack/interactions", body, stamp, slackSign); code != 200 {
			t.Fatalf("good request: %d", code)
		}
		if code, _ := h.postSlack("/slack/interactions", body, stamp, slackSign); code != http.StatusUnauthorized {
			t.Errorf("replay: %d", code)
		}
	})
}

func TestSlackRateLimitDelaysTheCard(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.slack.FailNext("chat.postMessage", 1, 429, 30)
		h.missed("CAs2", caller, lettings)
		if n := len(h.slack.Messages("C0LETTINGS")); n != 0 {
			t.Fatalf("card posted through a 429: %d", n)
		}
		h.clock.Advance(29 * time.Second)
		h.flush()
		if n := len(h.slack.Messages("C0LETTINGS")); n != 0 {
			t.Fatal("card posted before Retry-After")
		}
		h.clock.Advance(time.Second)
		h.flush()
		h.card("C0LETTINGS") // exactly one
	})
}

func TestSlackBotNotInChannelIsRecordedAndRetried(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.slack.FailNextWith("chat.postMessage", 1, "not_in_channel")
		c := h.missed("CAs3", caller, lettings)
		events, _ := h.store.EventsForCase(t.Context(), c.ID)
		found := false
		for _, e := range events {
			if e.Kind == "chat_failed" && strings.Contains(e.Data, "invite the bot") {
				found = true
			}
		}
		if !found {
			t.Fatalf("no chat_failed event: %+v", events)
		}
		h.clock.Advance(2 * time.Second)
		h.flush()
		h.card("C0LETTINGS") // arrives once the channel works again
	})
}

func TestSlashCommandVerbs(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		cmd := h.command
		h.missedCall("CAs4", caller, lettings)
		h.flush()
		for text, want := range map[string]string{
			"help":               "/callbacks mine",
			"bogus":              "/callbacks mine",
			"mine":               "Your callbacks",
			"overdue":            "Overdue callbacks",
			"line maintenance":   "Open callbacks on Maintenance",
			"line nowhere":       "No line called",
			"templates":          "callback_missed",
			"optout 07700900555": "Only managers",
		} {
			if body := cmd("U0ALICE", text); !strings.Contains(body, want) {
				t.Errorf("/callbacks %s: %s lacks %q", text, body, want)
			}
		}
		if body := cmd("U0MANAGER1", "optout 07700 900555"); !strings.Contains(body, "+447700900555 is opted out") {
			t.Fatalf("manager optout: %s", body)
		}
	})
}

func TestSlackEventsAndAppHome(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		if code, body := h.slackEvent(`{"token":"x","challenge":"c-123","type":"url_verification"}`); code != 200 || body != "c-123" {
			t.Fatalf("url_verification: %d %q", code, body)
		}
		c := h.missed("CAhome1", caller, lettings)
		h.bot.Claim(t.Context(), c.ID, aliceActor())
		home, ok := h.openHome("U0ALICE")
		if !ok || !strings.Contains(string(home.JSON), "Your callbacks") || !strings.Contains(string(home.JSON), "#"+strconv.FormatInt(c.ID, 10)) {
			t.Fatalf("home tab = %+v", home)
		}
	})
}

func TestSlackManagerReassigns(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, msg, _ := h.slackCase("CAre1")
		pick := func(userID string) {
			p := click(userID, "reassign", c.ID, "C0LETTINGS", msg.TS)
			p["actions"] = []any{map[string]any{"action_id": "reassign", "block_id": "case:" + strconv.FormatInt(c.ID, 10),
				"type": "users_select", "selected_user": "U0BOB", "action_ts": "1763287300.000200"}}
			if code, _ := h.interact(p); code != 200 {
				t.Fatal(code)
			}
		}
		pick("U0ALICE") // staff, not a manager
		if got := h.openCase(caller, lettings); got.Owner != "" {
			t.Fatal("staff reassigned a case")
		}
		if eph := h.slack.Ephemerals("U0ALICE"); len(eph) != 1 || !strings.Contains(eph[0].Text, "Only managers") {
			t.Fatalf("refusal = %+v", eph)
		}
		pick("U0MANAGER1")
		h.flush()
		if got := h.openCase(caller, lettings); got.Owner != "U0BOB" || got.AssignedBy != "U0MANAGER1" {
			t.Fatalf("owner %q assigned by %q", got.Owner, got.AssignedBy)
		}
		_, text := h.card("C0LETTINGS")
		if !strings.Contains(text, "<@U0BOB> (assigned by <@U0MANAGER1>)") {
			t.Fatalf("card:\n%s", text)
		}
	})
}

func TestSlackStaffGroupMembersMayWork(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.bot.Config().StaffGroup = "S0STAFF"
		h.slack.AddUser("U0CHEN", "chen", "Chen Li")
		h.slack.SetGroupMembers("S0STAFF", "U0CHEN")
		c, msg, _ := h.slackCase("CAgrp1")
		h.interact(click("U0VISITOR", "claim", c.ID, "C0LETTINGS", msg.TS))
		if got := h.openCase(caller, lettings); got.Owner != "" {
			t.Fatal("someone outside the channels and the staff group claimed")
		}
		h.interact(click("U0CHEN", "claim", c.ID, "C0LETTINGS", msg.TS))
		if got := h.openCase(caller, lettings); got.Owner != "U0CHEN" {
			t.Fatalf("a staff group member could not claim: owner %q", got.Owner)
		}
	})
}

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
		if th := h.threadTexts("C0LETTINGS", msg.TS); !strings.Contains(th, "*Alice Jones* scheduled a reply for 08:00 (caller's time)") || !strings.Contains(th, "Alice tried to call you back") {
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

// A captured Reply submission sent again, to another replica or after a
// restart, or with its signature's hex in upper case, sends no second SMS.
func TestSlackReplayIsRefusedByEveryReplica(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, msg, _ := h.slackCase("CAs0000000000000000000000000000r01")
		h.interact(click("U0ALICE", "reply", c.ID, "C0LETTINGS", msg.TS))
		raw, _ := json.Marshal(submit("U0ALICE", lastView(h), map[string]any{"template": selected("template", "callback_missed")}))
		body := url.Values{"payload": {string(raw)}}.Encode()
		replica := h.slackReplica()
		stamp := time.Now()
		h.replays(func(base string) *http.Request {
			return slackRequest(base+"/slack/interactions", body, stamp, slackSign)
		}, "X-Slack-Signature", "v0=", replica)
	})
}

// Staff work their own line's cases; Spam is for managers, on the card as
// in /callbacks; who is not staff reads no queue, in a command or the App
// Home, and no refusal shows them a caller.
func TestSlackWhoMaySeeAndDoWhat(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// Alice is in the Lettings channel only; Bob in both.
		m, mmsg, _ := h.slackCaseOn("CAacc1", maint, "C0MAINT")
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

// Slack keeps a modal's submit while it has an input: a reply that cannot
// go is refused on the Template field with the reason, and nothing is sent.
func TestSlackReplyToAnOptedOutCallerIsRefusedWithTheReason(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, msg, _ := h.slackCase("CAq0000000000000000000000000000009")
		if out := h.command("U0MANAGER1", "optout "+caller); !strings.Contains(out, "opted out") {
			t.Fatalf("manager optout: %s", out)
		}
		h.interact(click("U0ALICE", "reply", c.ID, "C0LETTINGS", msg.TS))
		v := lastView(h)
		if !strings.Contains(string(v.JSON), "⚠️ ") {
			t.Fatalf("the modal does not mark the templates that cannot go:\n%s", v.JSON)
		}
		before := len(h.textsTo(caller))
		code, body := h.interact(submit("U0ALICE", v, map[string]any{"template": selected("template", "callback_missed")}))
		if code != 200 || !strings.Contains(body, `"response_action":"errors"`) || !strings.Contains(body, "the caller opted out of texts") {
			t.Fatalf("reply submit: %d %s", code, body)
		}
		h.flush()
		if n := len(h.textsTo(caller)); n != before {
			t.Fatalf("%d texts after a refused reply, want %d", n, before)
		}
	})
}
