package handlers_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
	"ringback/store"
)

// panelMessage is the id of the /callbacks mine panel, as Discord names the
// ephemeral message in the clicks on it.
const panelMessage = "1600000000000000010"

// panelClick is a click on the ephemeral /callbacks mine panel.
func panelClick(userID, customID string) map[string]any {
	p := component(userID, customID, dLettings, panelMessage)
	p["message"].(map[string]any)["flags"] = 64
	return p
}

// buttons lists an answer's components as rows of "custom_id=label".
func (r response) buttons(t *testing.T) []string {
	t.Helper()
	var rows []struct {
		Type       int `json:"type"`
		Components []struct {
			Type     int    `json:"type"`
			Label    string `json:"label"`
			CustomID string `json:"custom_id"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.Data.Components, &rows); err != nil {
		t.Fatalf("components %s: %v", r.Data.Components, err)
	}
	var out []string
	for _, row := range rows {
		var bs []string
		for _, c := range row.Components {
			if c.Type != 2 {
				t.Fatalf("the panel holds a component of type %d: %s", c.Type, r.Data.Components)
			}
			bs = append(bs, c.CustomID+"="+c.Label)
		}
		out = append(out, strings.Join(bs, ","))
	}
	return out
}

// panelRow is the row of a case's buttons on the panel.
func panelRow(id int64) string {
	s := strconv.FormatInt(id, 10)
	return fmt.Sprintf("reply:%s=Reply #%s,log_callback:%s=Log callback #%s,close:%s=Close #%s,release:%s=Release #%s", s, s, s, s, s, s, s, s)
}

const refreshRow = "mine_refresh=Refresh"

func (h *discordHarness) claimAs(userID string, c store.Case) {
	h.t.Helper()
	if _, err := h.bot.Claim(h.t.Context(), c.ID, bot.Actor{ID: userID, Name: dNames[userID][1], Staff: true}); err != nil {
		h.t.Fatal(err)
	}
}

// Discord's App Home: /callbacks mine is an ephemeral panel of the
// person's own cases with their card buttons; a Close from it goes the
// card's way, Refresh shows what is left, and Release updates it at once.
func TestDiscordMinePanel(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		first := h.missed("CAdmine01", caller, lettings)
		second := h.missed("CAdmine02", "+447700900124", lettings)
		other := h.missed("CAdmine03", "+447700900125", lettings)
		h.claimAs(dAlice, first)
		h.claimAs(dAlice, second)
		h.flush()

		r := h.interact(slash(dAlice, "mine"))
		if r.Type != 4 || r.Data.Flags != 64 {
			t.Fatalf("/callbacks mine answered %s", r.text())
		}
		if got, want := strings.Join(r.buttons(t), "\n"), strings.Join([]string{panelRow(first.ID), panelRow(second.ID), refreshRow}, "\n"); got != want {
			t.Fatalf("panel buttons:\n%s\nwant:\n%s", got, want)
		}
		for _, s := range []string{"Your callbacks — 2 open, oldest first", ref(first.ID), ref(second.ID), "07700 900123", "07700 900124", "claimed", "Lettings",
			"https://discord.com/channels/" + dGuild + "/" + dLettings + "/"} {
			if !strings.Contains(r.raw, s) {
				t.Errorf("the panel lacks %q: %s", s, r.raw)
			}
		}
		if strings.Contains(r.raw, ref(other.ID)+"]") || strings.Contains(r.raw, "07700 900125") || strings.Contains(r.raw, ":"+strconv.FormatInt(other.ID, 10)+`"`) {
			t.Fatalf("the panel shows a case Alice does not own: %s", r.raw)
		}

		// Close from the panel: the card's steps (outcome, then the note).
		id := strconv.FormatInt(first.ID, 10)
		r = h.interact(panelClick(dAlice, "close:"+id))
		if r.Type != 4 || r.Data.Flags != 64 || r.ids()[0] != "close_pick:"+id {
			t.Fatalf("close from the panel answered %s", r.text())
		}
		r = h.interact(component(dAlice, "close_pick:"+id, dLettings, "1600000000000000011", "resolved"))
		if r.Type != 9 || r.Data.CustomID != "close:"+id+":resolved" {
			t.Fatalf("outcome answered %s", r.text())
		}
		if r = h.interact(modalSubmit(dAlice, "close:"+id+":resolved", dLettings, "Sorted on the phone")); r.Type != 7 || !strings.Contains(r.Data.Content, "Closed") {
			t.Fatalf("close answered %s", r.text())
		}
		if got, _ := h.store.CaseByID(t.Context(), first.ID); got.State != "closed" || got.Outcome != "resolved" {
			t.Fatalf("case = %s %s", got.State, got.Outcome)
		}

		// Refresh: the panel, updated in place, lists the one case left.
		r = h.interact(panelClick(dAlice, rbdiscord.ActionMineRefresh))
		if r.Type != 7 {
			t.Fatalf("refresh answered %s", r.text())
		}
		if got, want := strings.Join(r.buttons(t), "\n"), panelRow(second.ID)+"\n"+refreshRow; got != want {
			t.Fatalf("panel after the close:\n%s\nwant:\n%s", got, want)
		}
		if !strings.Contains(r.raw, "Your callbacks — 1 open") || strings.Contains(r.raw, ref(first.ID)) {
			t.Fatalf("panel after the close: %s", r.raw)
		}

		// Release from the panel: done, and the panel says so at once.
		id = strconv.FormatInt(second.ID, 10)
		r = h.interact(panelClick(dAlice, "release:"+id))
		if r.Type != 7 || r.Data.Content != "Released "+ref(second.ID)+" back to the queue." || !strings.Contains(r.raw, "Nothing waiting") {
			t.Fatalf("release from the panel answered %s", r.text())
		}
		if got := r.buttons(t); len(got) != 1 || got[0] != refreshRow {
			t.Fatalf("panel after the release: %v", got)
		}
		if got, _ := h.store.CaseByID(t.Context(), second.ID); got.Owner != "" || got.State != "open" {
			t.Fatalf("case after release = %s owned by %q", got.State, got.Owner)
		}
		h.flush()
		// A stale panel's Release: the refusal heads the fresh panel.
		r = h.interact(panelClick(dAlice, "release:"+id))
		if r.Type != 7 || !strings.Contains(r.Data.Content, "⚠️ Only the case's owner") || len(r.buttons(t)) != 1 {
			t.Fatalf("a second release answered %s", r.text())
		}

		// Someone who is not staff (outside the guild) reads the refusal, and no case.
		p := panelClick(dVisitor, rbdiscord.ActionMineRefresh)
		p["user"] = p["member"].(map[string]any)["user"]
		delete(p, "member")
		delete(p, "guild_id")
		r = h.interact(p)
		if r.Type != 7 || !strings.Contains(r.Data.Content, "Only staff") || len(r.ids()) != 0 || revealsCaller(r.raw) {
			t.Fatalf("a visitor's refresh answered %s", r.text())
		}
	})
}

// More cases than Discord's five rows of buttons hold: the oldest four
// keep theirs, Refresh its row, and the panel says how many more there are.
func TestDiscordMinePanelSaysHowManyMore(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		var cases []store.Case
		for n := range 7 {
			c := h.missed(fmt.Sprintf("CAdmore%02d", n), fmt.Sprintf("+4477009002%02d", n), lettings)
			h.claimAs(dBob, c)
			cases = append(cases, c)
		}
		h.flush()
		r := h.interact(slash(dBob, "mine"))
		rows := r.buttons(t)
		if len(rows) != 5 || rows[4] != refreshRow {
			t.Fatalf("panel rows:\n%s", strings.Join(rows, "\n"))
		}
		for i, c := range cases[:rbdiscord.PanelCases] {
			if rows[i] != panelRow(c.ID) {
				t.Errorf("row %d = %s, want %s", i, rows[i], panelRow(c.ID))
			}
		}
		if !strings.Contains(r.raw, "Your callbacks — 7 open") || !strings.Contains(r.raw, "…and 3 more") {
			t.Fatalf("the panel does not count the rest: %s", r.raw)
		}
		if strings.Contains(r.raw, ref(cases[4].ID)) {
			t.Fatalf("a fifth case is listed without its buttons: %s", r.raw)
		}

		// A slow Refresh: acknowledged, then the panel edited through @original.
		h.handler.SetDeferAfter(0)
		if r := h.interact(panelClick(dBob, rbdiscord.ActionMineRefresh)); r.Type != 6 {
			t.Fatalf("deferred refresh answered %s", r.text())
		}
		h.handler.Wait()
		ws := h.discord.Webhooks("token-" + strconv.Itoa(h.seq))
		if len(ws) != 1 || ws[0].MessageID != "@original" || len(ws[0].CustomIDs()) != 4*rbdiscord.PanelCases+1 || !strings.Contains(ws[0].Text(), "…and 3 more") {
			t.Fatalf("@original edits = %+v", ws)
		}
	})
}
