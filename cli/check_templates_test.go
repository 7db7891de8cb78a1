package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ringback/bot"
	"ringback/config"
	"ringback/store/storetest"
)

// DESIGN.md's example has no safety, help or opt-out confirmation
// template: check passes (Ringback has built-in texts) but names each gap
// at the key that needs it.
func TestCheckListsMissingAutomaticTemplates(t *testing.T) {
	var out, errOut bytes.Buffer
	env := productionEnv(t, map[string]string{"RINGBACK_CONFIG": filepath.Join("..", "testdata", "ringback.design.yaml")})
	if code := Run([]string{"check"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
		t.Fatalf("check failed on a config whose gaps have built-in texts:\n%s", errOut.String())
	}
	for _, want := range []string{
		"3 warning(s)",
		`categories.urgent: urgent and chosen by lines[0].triage.9, but no template "safety"`,
		"built-in safety text",
		`templates: no template "help"`,
		`templates: no template "optout_confirm"`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errOut.String())
		}
	}

	out.Reset()
	errOut.Reset()
	env["RINGBACK_CONFIG"] = filepath.Join("..", "testdata", "ringback.yaml")
	if code := Run([]string{"check"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 || strings.Contains(errOut.String(), "warning") {
		t.Fatalf("check on a config with every template: %d\n%s", code, errOut.String())
	}
}

// A template managers edited in chat is the store's: check names the file's
// differing text, at its place, without failing.
func TestCheckReportsTemplatesEditedInChat(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		ctx := context.Background()
		path := filepath.Join("..", "testdata", "ringback.yaml")
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		s := storetest.Migrated(t, url)
		b := bot.New(bot.Deps{Store: s, Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err := b.SyncTemplates(ctx); err != nil {
			t.Fatal(err)
		}
		env := productionEnv(t, map[string]string{"RINGBACK_CONFIG": path, "DATABASE_URL": url})
		var out, errOut bytes.Buffer
		if code := Run([]string{"check"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 || strings.Contains(errOut.String(), "differs") {
			t.Fatalf("check before any edit: %d\n%s", code, errOut.String())
		}
		mgr := bot.Actor{ID: cfg.Managers[0]}
		if _, err := b.TemplatesCommand(ctx, mgr, "add callback_missed Sorry we missed you, {{caller_name|there}}."); err != nil {
			t.Fatal(err)
		}
		if _, err := b.TemplatesCommand(ctx, mgr, "approve callback_missed"); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		errOut.Reset()
		if code := Run([]string{"check"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
			t.Fatalf("check failed on a chat edit:\n%s", errOut.String())
		}
		i := slices.IndexFunc(cfg.Templates, func(t config.Template) bool { return t.Key == "callback_missed" })
		want := fmt.Sprintf(`templates[%d].text: "callback_missed" differs from version 2 approved in chat by %s`, i, mgr.ID)
		if !strings.Contains(errOut.String(), want) {
			t.Fatalf("check output lacks %q:\n%s", want, errOut.String())
		}
	})
}
