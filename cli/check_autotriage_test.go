package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A phrase rule naming a category the file does not have is a warning:
// check passes but names it, so a typo does not silently triage nothing.
func TestCheckWarnsOfPhraseRulesForNoCategory(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "ringback.design.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ringback.yaml")
	extra := "auto_triage:\n  phrases:\n    urgent: [sewage]\n    maintenence: [squeaky door]\n"
	if err := os.WriteFile(path, append(data, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	env := productionEnv(t, map[string]string{"RINGBACK_CONFIG": path})
	if code := Run([]string{"check"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
		t.Fatalf("check failed:\n%s", errOut.String())
	}
	want := `auto_triage.phrases.maintenence: no category "maintenence": these phrases triage nothing`
	if !strings.Contains(errOut.String(), want) || strings.Contains(errOut.String(), "phrases.urgent") {
		t.Fatalf("check output lacks %q (or warns of a known category):\n%s", want, errOut.String())
	}
}
