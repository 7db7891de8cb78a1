package bot_test

import (
	"context"
	"strings"
	"testing"

	"ringback/bot"
	"ringback/store/storetest"
)

// The table: staff of one line act on its cases only, an owner releases
// from anywhere, managers do all, and a refusal names no caller.
func TestAccessTable(t *testing.T) {
	f := newFixture(t, storetest.New(t, "sqlite"))
	ctx := context.Background()
	c := f.missed(t, "CA1", callerNum)
	maintOnly := bot.Actor{ID: "U0MAINT", Name: "Max", Staff: true, Lines: []string{"+441632960002"}}
	lettingsOnly := bot.Actor{ID: "U0LET", Name: "Lee", Staff: true, Lines: []string{lettingsNum}}
	_, err := f.bot.Claim(ctx, c.ID, maintOnly)
	if r := refusal(t, err); !strings.Contains(r.Message, "this case's line") || strings.Contains(r.Message, "7700") {
		t.Fatalf("another line's staff claimed: %v", err)
	}
	if _, err := f.bot.Claim(ctx, c.ID, lettingsOnly); err != nil {
		t.Fatalf("the line's staff: %v", err)
	}
	// The owner answers a reminder from a DM, where they are nobody's staff.
	if _, err := f.bot.Release(ctx, c.ID, bot.Actor{ID: lettingsOnly.ID}); err != nil {
		t.Fatalf("the owner's release from a DM: %v", err)
	}
	if _, err := f.bot.Close(ctx, c.ID, maintOnly, "booked", "note"); err == nil {
		t.Fatal("another line's staff closed the case")
	}
	for args, want := range map[string]string{
		"": "Only staff", "stats": "Only staff", "templates": "Only staff", "bogus": "Only staff", "spam 07700900999": "Only staff",
		"help": "/callbacks — the open queue",
	} {
		r, err := f.bot.Command(ctx, bot.Invoker{Actor: visitor, Platform: "slack"}, args)
		if err != nil || r.Queue != nil || !strings.Contains(r.Text.String(), want) {
			t.Errorf("/callbacks %s by a visitor = %+v %v, want %q", args, r, err, want)
		}
	}
	for args, want := range map[string]string{"templates approve x": "Only managers", "spam 07700900999": "Only managers", "templates": "Approved templates"} {
		if r, _ := f.bot.Command(ctx, bot.Invoker{Actor: maintOnly, Platform: "slack"}, args); !strings.Contains(r.Text.String(), want) {
			t.Errorf("/callbacks %s by staff = %q, want %q", args, r.Text.String(), want)
		}
	}
	if _, err := f.bot.MarkSpam(ctx, c.ID, manager); err != nil {
		t.Fatalf("a manager's spam: %v", err)
	}
}
