package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"ringback/bot"
)

// A template with a fallback ({{caller_name|there}}) goes to a caller
// Ringback cannot name; the Reply modal lists templates by label and
// category, and a choice that cannot be sent says why.
func TestReplyChoicesFallbackLabelsAndWhyNot(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.worker.RunDue(ctx)
		if _, err := f.store.SyncTemplate(ctx, "hello_any", "Hi {{caller_name|there}}, {{agent}} from {{business}}.", nil, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.SyncTemplate(ctx, "named", "Hi {{caller_name}}.", nil, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.CategoryCommand(ctx, alice, fmt.Sprintf("%d maintenance", c.ID)); err != nil {
			t.Fatal(err)
		}
		choices, err := f.bot.ReplyChoices(ctx, c.ID, alice)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]bot.TemplateChoice{}
		for _, ch := range choices {
			byKey[ch.Key] = ch
		}
		hello := byKey["hello_any"]
		if hello.Blocked != "" || hello.Preview != "Hi there, Alice from Northside Lettings." || hello.Label != "Hello any" || hello.Category != bot.AnyCategory {
			t.Fatalf("hello_any = %+v", hello)
		}
		if n := byKey["named"]; !strings.Contains(n.Blocked, "caller name") || !strings.Contains(n.Blocked, "fallback") {
			t.Fatalf("named = %+v", n)
		}
		if m := byKey["maintenance_ack"]; m.Category != "Maintenance" {
			t.Fatalf("maintenance_ack = %+v", m)
		}
		if choices[0].Key != "maintenance_ack" {
			t.Fatalf("the case's category comes first: %+v", choices)
		}
		if _, err := f.bot.SendReply(ctx, c.ID, alice, "hello_any"); err != nil {
			t.Fatalf("a reply with a fallback to an unknown caller: %v", err)
		}
		f.worker.RunDue(ctx)
		texts := f.twilio.Messages()
		if got := texts[len(texts)-1].Body; got != "Hi there, Alice from Northside Lettings." {
			t.Fatalf("sent %q", got)
		}

		// An opted-out caller: every choice says why it cannot go.
		if _, err := f.store.OptOut(ctx, callerNum, "keyword", f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		choices, _ = f.bot.ReplyChoices(ctx, c.ID, alice)
		for _, ch := range choices {
			if ch.Blocked != "the caller opted out of texts" {
				t.Fatalf("opted out: %+v", ch)
			}
		}
		p, err := f.bot.PreviewReply(ctx, c.ID, alice, "hello_any")
		if err != nil || p.Blocked == "" {
			t.Fatalf("preview for an opted-out caller: %+v %v", p, err)
		}
	})
}

// Managers' edits and approvals survive a restart: the file's differing
// text is logged, not applied.
func TestChatEditSurvivesRestart(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.bot.TemplatesCommand(ctx, manager, "add callback_missed Sorry we missed you, {{caller_name|there}}. Call {{callback_number}}."); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.TemplatesCommand(ctx, manager, "approve callback_missed"); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		restarted := bot.New(bot.Deps{Store: f.store, Config: f.bot.Config(), Clock: f.clock, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		if err := restarted.SyncTemplates(ctx); err != nil {
			t.Fatal(err)
		}
		tp, err := f.store.ApprovedTemplate(ctx, "callback_missed")
		if err != nil || !strings.HasPrefix(tp.Text, "Sorry we missed you, {{caller_name|there}}") || tp.ApprovedBy != manager.ID {
			t.Fatalf("after a restart the template is %+v %v", tp, err)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "template=callback_missed") {
			t.Fatalf("the differing file text was not reported:\n%s", logs.String())
		}
	})
}
