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
