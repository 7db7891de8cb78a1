package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check reports the rota, closed-date and contact-kind keys' mistakes as
// problems and a by-weekday rota's uncovered open days as a warning.
func TestCheckRotaClosedDatesContactKinds(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(yaml string) (int, string) {
		path := filepath.Join(t.TempDir(), "ringback.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		env := productionEnv(t, map[string]string{"RINGBACK_CONFIG": path})
		code := Run([]string{"check"}, func(k string) string { return env[k] }, &out, &errOut)
		return code, errOut.String()
	}
	good := strings.Replace(string(base), "    queue_check: [\"08:45\", \"17:15\"]\n",
		"    queue_check: [\"08:45\", \"17:15\"]\n    rota: {mon-fri: U0ALICE}\n    closed_dates: [\"2026-12-25..2026-12-26\"]\n    contact_kinds: {vendor: {channel: C0VENDORS}}\n", 1)
	if code, errOut := run(good); code != 0 || !strings.Contains(errOut, "lines[0].rota: nobody on sat, when the line opens") {
		t.Fatalf("exit %d, want 0 with the rota warning:\n%s", code, errOut)
	}
	bad := strings.Replace(good, `"2026-12-25..2026-12-26"`, `"25/12/2026"`, 1)
	bad = strings.Replace(bad, "channel: C0VENDORS", "channel: \"#vendors\"", 1)
	code, errOut := run(bad)
	for _, want := range []string{`lines[0].closed_dates[0]: "25/12/2026" is not a date`, `lines[0].contact_kinds.vendor.channel: "#vendors" is not a Slack channel ID`} {
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, output lacks %q:\n%s", code, want, errOut)
		}
	}
}
