package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/bot/calllog"
	"ringback/config"
)

// Each phone system's export is read by its preset: its columns, its
// direction (outbound and internal calls left out), its result words and
// its faxes (left out).
func TestImportCallsPresets(t *testing.T) {
	for _, c := range []struct {
		file, preset, summary string
	}{
		{"calls_ringcentral.csv", "RingCentral",
			"imported 7 calls (4 missed, 1 after hours) from 9 rows; 0 skipped; 0 already known; left out 1 outbound call and 1 fax"},
		{"calls_dialpad.csv", "Dialpad",
			"imported 3 calls (2 missed, 1 after hours) from 4 rows; 0 skipped; 0 already known; left out 1 outbound call and 0 faxes"},
		{"calls_aircall.csv", "Aircall",
			"imported 3 calls (2 missed, 1 after hours) from 4 rows; 0 skipped; 0 already known; left out 1 outbound call and 0 faxes"},
		{"calls_8x8.csv", "8x8",
			"imported 3 calls (2 missed, 0 after hours) from 5 rows; 0 skipped; 0 already known; left out 2 outbound calls and 0 faxes"},
		{"calls_twilio.csv", "Twilio",
			"imported 3 calls (2 missed, 0 after hours) from 5 rows; 0 skipped; 0 already known; left out 2 outbound calls and 0 faxes"},
	} {
		t.Run(c.preset, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "rb.db")
			url := "sqlite:" + db
			path := filepath.Join("testdata", c.file)
			code, out, errOut := runCLI(t, url, nil, "import", "calls", "--dry-run", path)
			if code != 0 || !strings.HasPrefix(out, "columns: a "+c.preset+" export: ") {
				t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "\ndry run, nothing written: would import "+strings.TrimPrefix(c.summary, "imported ")) {
				t.Errorf("dry run said:\n%s", out)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Fatalf("the dry run created the database file (%v)", err)
			}
			code, out, errOut = runCLI(t, url, nil, "import", "calls", path)
			if code != 0 || lines(out)[0] != c.summary {
				t.Fatalf("exit %d\n%s%s\nwant %s", code, out, errOut, c.summary)
			}
		})
	}
}

// The RingCentral export's times: a weekday before a US date in one
// column, a 12-hour time in the next, read in the business's zone.
func TestImportCallsRingCentralTimes(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "calls_ringcentral.csv"))
	if err != nil {
		t.Fatal(err)
	}
	log, err := readCallLog(data, callOptions{loc: cfg.Business.Timezone}, cfg, time.Now(), noMeter{})
	if err != nil {
		t.Fatal(err)
	}
	if log.cols.preset == nil || log.cols.preset.name != "RingCentral" || log.times.ambiguous != "" {
		t.Fatalf("preset %v, ambiguity %q", log.cols.preset, log.times.ambiguous)
	}
	got := map[string]string{}
	for _, call := range log.calls {
		got[call.CallerNumber] = call.StartedAt.Format(time.RFC3339) + " " + call.Status
		if call.Provider != calllog.Provider {
			t.Errorf("provider %q", call.Provider)
		}
	}
	for caller, want := range map[string]string{
		"+447700900201": "2026-11-30T09:05:00Z accepted",
		"+447700900202": "2026-11-30T09:20:00Z call connected",
		"+447700900203": "2026-11-30T09:41:00Z missed",
		"+447700900204": "2026-11-30T10:02:00Z voicemail",
		"+447700900205": "2026-12-01T18:45:00Z missed",
		"+447700900206": "2026-12-01T11:12:00Z hang up",
	} {
		if got[caller] != want {
			t.Errorf("%s: %q, want %q", caller, got[caller], want)
		}
	}
}
