package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
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
