package discord_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
	"ringback/bot/discord/discordstandin"
	"ringback/bot/internal/golden"
)

// claimedActions are a claimed case's card buttons (bot's card rules).
var claimedActions = []string{bot.ActionRelease, bot.ActionReply, bot.ActionLog, bot.ActionClose, bot.ActionSpam, bot.ActionReassign, bot.ActionCategory}

// panelButton is a button of the panel as Discord reads it.
type panelButton struct {
	Type     int    `json:"type"`
	Label    string `json:"label"`
	CustomID string `json:"custom_id"`
}

// panelRows decodes a panel's components into rows of buttons.
func panelRows(t *testing.T, d *discordgo.InteractionResponseData) [][]panelButton {
	t.Helper()
	var rows []struct {
		Type       int           `json:"type"`
		Components []panelButton `json:"components"`
	}
	if err := json.Unmarshal(golden.JSON(t, d.Components), &rows); err != nil {
		t.Fatal(err)
	}
	out := make([][]panelButton, len(rows))
	for i, r := range rows {
		out[i] = r.Components
	}
	return out
}

func TestMinePanelGoldenFile(t *testing.T) {
	v := bot.QueueView{Title: "Your callbacks", Total: 2, Mine: true, Items: []bot.QueueItem{
		{CaseID: 41, Ref: "#41", Age: 3 * time.Hour, Line: "Lettings", Category: "Viewing / lettings", State: "claimed", Owner: alice,
			Caller: "Jane Smith (tenant)", Number: "07700 900123", CallerReplied: true, Overdue: true,
			CardChannel: "1100000000000000001", CardMessage: "1300000000000000005", Actions: claimedActions},
		// A withheld number: its card has no Reply, nor has the panel.
		{CaseID: 42, Ref: "#42", Age: 25 * time.Minute, Line: "Maintenance # - >", State: "claimed", Owner: alice, Caller: "number withheld", Urgent: true,
			Actions: []string{bot.ActionRelease, bot.ActionLog, bot.ActionClose, bot.ActionReassign}},
	}}
	d := rbdiscord.MinePanel(v, bot.Plain("Released #40 back to the queue."), func(ch, msg string) string {
		return "https://discord.com/channels/1000000000000000001/" + ch + "/" + msg
	})
	raw := golden.Check(t, "mine_panel", d)
	noProblems(t, discordstandin.MessageProblems(raw))
	noProblems(t, discordstandin.ResponseProblems(golden.JSON(t, discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: d})))
	if d.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("flags = %d, want ephemeral", d.Flags)
	}
	var got []string
	for _, r := range panelRows(t, d) {
		var row []string
		for _, b := range r {
			row = append(row, b.CustomID+"="+b.Label)
		}
		got = append(got, strings.Join(row, ","))
	}
	want := []string{
		"reply:41=Reply #41,log_callback:41=Log callback #41,close:41=Close #41,release:41=Release #41",
		"log_callback:42=Log callback #42,close:42=Close #42,release:42=Release #42",
		"mine_refresh=Refresh",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	desc := d.Embeds[0].Description
	for _, s := range []string{"[#41](https://discord.com/channels/1000000000000000001/1100000000000000001/1300000000000000005)", "claimed · 3h 00m ago · Lettings",
		"**Jane Smith (tenant)** · 07700 900123", "⏰ overdue", "💬 replied", "Maintenance \\# \\- \\>", "**#42** 🚨 urgent"} {
		if !strings.Contains(desc, s) {
			t.Errorf("panel lacks %q:\n%s", s, desc)
		}
	}
	if d.Content != "Released #40 back to the queue." {
		t.Errorf("note = %q", d.Content)
	}
}

// More cases than Discord's five rows hold: the oldest PanelCases keep
// their buttons, Refresh keeps its row, and the rest are counted.
func TestMinePanelStaysWithinDiscordsLimits(t *testing.T) {
	long := strings.Repeat("*_`|> #-[]\\ @everyone <@1> ", 100)
	v := bot.QueueView{Title: "Your callbacks", Total: 30, Mine: true}
	for i := range 25 {
		v.Items = append(v.Items, bot.QueueItem{CaseID: int64(100 + i), Ref: fmt.Sprintf("#%d", 100+i), Line: long[:300], State: "claimed",
			Caller: long, Number: long[:40], Category: long[:200], Actions: claimedActions, CardChannel: "1", CardMessage: "2"})
	}
	d := rbdiscord.MinePanel(v, bot.Plain(long), func(ch, msg string) string { return "https://discord.com/channels/1/" + ch + "/" + msg })
	raw := golden.JSON(t, d)
	noProblems(t, discordstandin.MessageProblems(raw))
	rows := panelRows(t, d)
	if len(rows) != discordstandin.MaxRows {
		t.Fatalf("%d rows, want %d", len(rows), discordstandin.MaxRows)
	}
	for i, r := range rows[:rbdiscord.PanelCases] {
		if len(r) != 4 || r[0].CustomID != fmt.Sprintf("reply:%d", 100+i) {
			t.Errorf("row %d = %+v", i, r)
		}
	}
	if last := rows[len(rows)-1]; len(last) != 1 || last[0].CustomID != rbdiscord.ActionMineRefresh {
		t.Fatalf("last row = %+v, want Refresh alone", last)
	}
	if foot := d.Embeds[0].Footer.Text; !strings.HasPrefix(foot, "…and 26 more") {
		t.Fatalf("footer = %q", foot)
	}
	for _, bad := range []string{"@everyone", "<@1>"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("the panel carries %q live", bad)
		}
	}

	// Nothing left: no case rows, Refresh stays.
	empty := rbdiscord.MinePanel(bot.QueueView{Title: "Your callbacks", Mine: true}, nil, nil)
	if rows := panelRows(t, empty); len(rows) != 1 || rows[0][0].CustomID != rbdiscord.ActionMineRefresh || !strings.Contains(empty.Embeds[0].Description, "Nothing waiting") {
		t.Fatalf("empty panel = %+v %q", rows, empty.Embeds[0].Description)
	}
}
