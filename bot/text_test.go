package bot_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/store/storetest"
)

// A text travels in outbox payloads and comes back the same.
func TestTextRoundTripsThroughJSON(t *testing.T) {
	at := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	n := bot.Notice{User: "U1", CaseID: 7, Text: bot.Text{
		bot.Words("⏰ "), bot.Strong("Your case"), bot.User("U1"), bot.Said("<@U9> & *x*"), bot.Link("https://x.example/a", "#7"),
		bot.Broadcast("here"), bot.Command("mine"), bot.At(at, bot.TimeDue), bot.Code("k"),
	}}
	raw, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	var back bot.Notice
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, n) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", back.Text, n.Text)
	}
}

// Rows queued before texts were neutral hold a Slack mrkdwn string; they
// still run, with their mentions and bold read back.
func TestTextReadsQueuedMrkdwnStrings(t *testing.T) {
	var e bot.Entry
	raw := `{"case_id":1,"kind":"reassigned","text":"*Lettings &amp; Sales* assigned to <@U0ALICE>, ask <!here> or <!subteam^S1>","at":"2026-11-16T10:00:00Z"}`
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		t.Fatal(err)
	}
	want := bot.Text{bot.Strong("Lettings & Sales"), bot.Words(" assigned to "), bot.User("U0ALICE"), bot.Words(", ask "),
		bot.Broadcast("here"), bot.Words(" or "), bot.Broadcast("S1")}
	if !reflect.DeepEqual(e.Text, want) {
		t.Fatalf("legacy text = %#v", e.Text)
	}
	if got := e.Text.String(); got != "Lettings & Sales assigned to @U0ALICE, ask @here or @S1" {
		t.Fatalf("String() = %q", got)
	}
}

// The on-call page sends people to the chat the business uses.
func TestOnCallPageNamesTheBusinessChat(t *testing.T) {
	for chats, want := range map[string]string{
		"slack": "Open Slack to take it.", "discord": "Open Discord to take it.", "slack,discord": "Open Slack or Discord to take it.",
	} {
		t.Run(chats, func(t *testing.T) {
			s := storetest.New(t, "sqlite")
			cfg, err := config.Load(filepath.Join("..", "ringback.example.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			maint, _ := cfg.LineByNumber(maintNum)
			maint.OnCallPages = config.AllCases // a non-urgent case pages only when the line says so
			ctx := context.Background()
			clock := bot.NewManualClock(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC))
			b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: quiet, Chats: strings.Split(chats, ",")})
			if err := b.SyncTemplates(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := b.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA1", From: callerNum, To: maintNum, Outcome: bot.CallMissed}); err != nil {
				t.Fatal(err)
			}
			for range 3 { // the maintenance line pages on-call after 15 minutes unclaimed
				clock.Advance(8 * time.Minute)
				if _, err := b.RunEscalations(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var pages []string
			if err := s.DB().Select(&pages, s.DB().Rebind(`SELECT body FROM messages WHERE kind = ?`), "page"); err != nil {
				t.Fatal(err)
			}
			if len(pages) == 0 || !strings.HasSuffix(pages[0], want) {
				t.Fatalf("pages = %q, want one ending %q", pages, want)
			}
		})
	}
}
