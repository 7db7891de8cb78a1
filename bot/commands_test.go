package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"ringback/bot"
	"ringback/store/storetest"
)

// /callbacks is read in one place: verbs in any case, usages with the
// command to type, refusals as the reply, anything else the help.
func TestCommandGrammar(t *testing.T) {
	f := newFixture(t, storetest.New(t, "sqlite"))
	ctx := context.Background()
	f.missed(t, "CA1", callerNum)
	run := func(a bot.Actor, args string) bot.Reply {
		t.Helper()
		r, err := f.bot.Command(ctx, bot.Invoker{Actor: a, Platform: "slack"}, args)
		if err != nil {
			t.Fatalf("/callbacks %s: %v", args, err)
		}
		return r
	}
	for args, title := range map[string]string{"": "Open callbacks", " MINE ": "Your callbacks", "overdue": "Overdue callbacks", "line lettings": "Open callbacks on Lettings"} {
		if r := run(alice, args); r.Queue == nil || r.Queue.Title != title {
			t.Errorf("/callbacks %q = %+v, want the queue %q", args, r, title)
		}
	}
	if r := run(alice, ""); r.Queue.Total != 1 {
		t.Errorf("the open queue lists %d cases, want 1", r.Queue.Total)
	}
	for args, want := range map[string]string{
		"line":                 "Usage: /callbacks line NAME",
		"line nowhere":         `No line called "nowhere"`,
		"optout 07700 900999":  "Only managers",
		"optout":               "Only managers",
		"stats 2026-46":        "Usage: /callbacks stats [week]",
		"templates add k":      "Only managers",
		"templates frobnicate": "Usage: /callbacks templates, /callbacks templates add KEY TEXT",
		"help":                 "/callbacks — the open queue",
		"bogus":                "unspam NUMBER — managers",
	} {
		r := run(alice, args)
		if r.Queue != nil || !strings.Contains(r.Text.String(), want) {
			t.Errorf("/callbacks %s = %q, want %q", args, r.Text.String(), want)
		}
	}
	if r := run(manager, "optout"); r.Text.String() != "Usage: /callbacks optout NUMBER" {
		t.Errorf("manager's optout without a number = %q", r.Text.String())
	}
	// The usage names the command as a command, for each platform to write.
	if r := run(alice, "line"); !slices.Contains(r.Text, bot.Command("line NAME")) {
		t.Errorf("usage without its command span: %#v", r.Text)
	}
	if err := f.bot.MayWork(visitor); err == nil || !strings.Contains(err.Error(), "Only staff") {
		t.Errorf("a visitor may work callbacks: %v", err)
	}
}

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
