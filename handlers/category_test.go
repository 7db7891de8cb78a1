package handlers_test

import (
	"strconv"
	"strings"
	"testing"

	"ringback/store"
)

// categoryPick is the card's category select chosen in Slack.
func categoryPick(userID string, c store.Case, channel, ts, key string) map[string]any {
	p := click(userID, "category", c.ID, channel, ts)
	p["actions"] = []any{map[string]any{"action_id": "category", "block_id": "case:" + strconv.FormatInt(c.ID, 10),
		"type": "static_select", "action_ts": "1763287300.000300",
		"selected_option": map[string]any{"value": key, "text": map[string]any{"type": "plain_text", "text": key}}}}
	return p
}

// Staff of the case's line set its category from the card's select: it
// overrides the caller's digit, shows on the card and the timeline, and
// re-times the case; staff of another line are refused.
func TestSlackStaffSetTheCategoryFromTheCard(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		m, msg, _ := h.slackCaseOn("CAcat1", maint, "C0MAINT")
		h.texted(caller, maint, "2") // the caller says maintenance
		if got := h.openCase(caller, maint); got.Category != "maintenance" {
			t.Fatalf("digit: category %q", got.Category)
		}
		h.interact(categoryPick("U0ALICE", m, "C0MAINT", msg.TS, "compliance"))
		if eph := h.slack.Ephemerals("U0ALICE"); len(eph) != 1 || !strings.Contains(eph[0].Text, "Only staff of this case's line") {
			t.Fatalf("another line's staff: ephemerals = %+v", eph)
		}
		if got := h.openCase(caller, maint); got.Category != "maintenance" {
			t.Fatal("staff of another line set the category")
		}
		if code, _ := h.interact(categoryPick("U0BOB", m, "C0MAINT", msg.TS, "compliance")); code != 200 {
			t.Fatal(code)
		}
		h.flush()
		got := h.openCase(caller, maint)
		if got.Category != "compliance" || !got.DueAt.Equal(got.CreatedAt.Add(30*60e9)) {
			t.Fatalf("category %q due %v, want compliance due 30 min after the call", got.Category, got.DueAt)
		}
		card, text := h.card("C0MAINT")
		if !strings.Contains(text, "Compliance") || !strings.Contains(string(card.Blocks), `"initial_option"`) {
			t.Fatalf("card:\n%s", text)
		}
		if th := h.threadTexts("C0MAINT", card.TS); !strings.Contains(th, "set the category to Compliance (was Maintenance)") {
			t.Fatalf("thread:\n%s", th)
		}
	})
}

// The Discord card's category select menu does the same.
func TestDiscordStaffSetTheCategoryFromTheCard(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, card := h.cardedCase("CAdcat")
		if ids := strings.Join(card.CustomIDs(), ","); !strings.Contains(ids, "category:"+id) {
			t.Fatalf("card components = %s", ids)
		}
		if r := h.interact(component(dAlice, "category:"+id, dLettings, card.ID, "viewing")); r.Type != 6 {
			t.Fatalf("category pick answered %s", r.text())
		}
		h.flush()
		if got := h.openCase(caller, lettings); got.Category != "viewing" {
			t.Fatalf("category %q", got.Category)
		}
		if text := h.card(dLettings).Text(); !strings.Contains(text, "Viewing / lettings") {
			t.Fatalf("card:\n%s", text)
		}
	})
}
