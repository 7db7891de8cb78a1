package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// callTotals are what the calls table holds, counted.
type callTotals struct {
	Calls, Missed, AfterHours, Routed, Withheld, Imported, WithCase int
}

func callTable(t *testing.T, s *store.Store) callTotals {
	t.Helper()
	var c callTotals
	err := s.DB().QueryRow(`SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN missed THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN after_hours THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN routed THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN caller_number = '' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN provider = 'import' AND sid LIKE 'import:%' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN case_id IS NOT NULL THEN 1 ELSE 0 END), 0)
		FROM calls`).Scan(&c.Calls, &c.Missed, &c.AfterHours, &c.Routed, &c.Withheld, &c.Imported, &c.WithCase)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countLine counts a line's calls and missed calls.
func countLine(t *testing.T, s *store.Store, line string) (calls, missed int) {
	t.Helper()
	err := s.DB().QueryRow(s.DB().Rebind(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN missed THEN 1 ELSE 0 END), 0)
		FROM calls WHERE line_number = ?`), line).Scan(&calls, &missed)
	if err != nil {
		t.Fatal(err)
	}
	return calls, missed
}

// checkNothingElse fails when an import wrote anything but calls: history
// opens no case and sends nothing.
func checkNothingElse(t *testing.T, s *store.Store) {
	t.Helper()
	for _, table := range []string{"cases", "events", "outbox", "messages"} {
		var n int
		if err := s.DB().Get(&n, `SELECT COUNT(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows in %s after importing calls, want 0", n, table)
		}
	}
}

type wantCall struct {
	line, status        string
	started             time.Time
	missed, afterHours  bool
	duration            int
	routed, hasSIDOfRow bool
}

func checkCall(t *testing.T, s *store.Store, caller string, w wantCall) {
	t.Helper()
	var c store.Call
	err := s.DB().Get(&c, s.DB().Rebind(`SELECT `+callColumnsForTest+` FROM calls WHERE caller_number = ?`), caller)
	if err != nil {
		t.Errorf("call from %s: %v", caller, err)
		return
	}
	got := wantCall{c.LineNumber, c.Status, c.StartedAt.UTC(), c.Missed, c.AfterHours, c.DurationS, c.Routed, strings.HasPrefix(c.SID, "import:")}
	w.hasSIDOfRow = true
	if got != w {
		t.Errorf("call from %s:\n got %+v\nwant %+v", caller, got, w)
	}
	if c.Provider != "import" || c.CaseID != nil {
		t.Errorf("call from %s: provider %q, case %v; want import, none", caller, c.Provider, c.CaseID)
	}
}

const callColumnsForTest = `id, sid, provider, line_number, routed, caller_number, status, missed, after_hours,
	started_at, duration_s, voicemail_url, transcript, case_id, created_at, updated_at`

func lines(out string) []string {
	return strings.Split(strings.TrimRight(out, "\n"), "\n")
}

func checkOutput(t *testing.T, out string, want ...string) {
	t.Helper()
	if got := lines(out); !reflect.DeepEqual(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const (
	lettings    = "+441632960001"
	maintenance = "+441632960002"
)

var pbxNotes = []string{
	`line 11: +441632960099 is not a configured line (--all-lines imports it unrouted)`,
	`line 12: "31/09/2026 10:00" is not a time (--time-format)`,
	`line 13: status "Transferred" is neither answered (answered, completed, connected, yes) nor missed (missed, no answer, busy, voicemail, no…)`,
	`line 25: caller "12345" is not a phone number`,
}

// A phone system's export: two lines, answered and missed, in and out of
// hours on both sides of the clocks going back (25 Oct 2026), withheld
// callers, and rows that cannot be used.
func TestImportCallsPBX(t *testing.T) {
	path := filepath.Join("testdata", "calls_pbx.csv")
	storetest.EachURL(t, func(t *testing.T, url string) {
		code, out, errOut := runCLI(t, url, nil, "import", "calls", path)
		if code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		checkOutput(t, out, append([]string{
			"imported 21 calls (13 missed, 7 after hours) from 25 rows; 4 skipped; 0 already known",
		}, pbxNotes...)...)

		s := storetest.Open(t, url)
		want := callTotals{Calls: 21, Missed: 13, AfterHours: 7, Routed: 21, Withheld: 2, Imported: 21}
		if got := callTable(t, s); got != want {
			t.Errorf("calls table: %+v, want %+v", got, want)
		}
		if n, m := countLine(t, s, lettings); n != 13 || m != 7 {
			t.Errorf("Lettings: %d calls, %d missed; want 13, 7", n, m)
		}
		if n, m := countLine(t, s, maintenance); n != 8 || m != 6 {
			t.Errorf("Maintenance: %d calls, %d missed; want 8, 6", n, m)
		}
		checkNothingElse(t, s)
		utc := func(s string) time.Time {
			v, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		// 17:15 in London (BST) is 16:15 UTC, before Lettings closes at 17:30.
		checkCall(t, s, "+447700900104", wantCall{line: lettings, status: "missed", started: utc("2026-10-19T16:15:00Z"), missed: true, routed: true})
		checkCall(t, s, "+447700900105", wantCall{line: lettings, status: "voicemail", started: utc("2026-10-19T16:45:00Z"), missed: true, afterHours: true, duration: 38, routed: true})
		checkCall(t, s, "+447700900106", wantCall{line: lettings, status: "completed", started: utc("2026-10-20T09:00:00Z"), duration: 95, routed: true})
		// After the clocks went back, London is UTC again; Sunday is closed.
		checkCall(t, s, "+447700900115", wantCall{line: lettings, status: "missed", started: utc("2026-10-25T11:00:00Z"), missed: true, afterHours: true, routed: true})
		checkCall(t, s, "+447700900118", wantCall{line: lettings, status: "missed", started: utc("2026-10-26T17:30:00Z"), missed: true, afterHours: true, routed: true})
		// No status and no talk time: missed.
		checkCall(t, s, "+447700900121", wantCall{line: lettings, status: "missed", started: utc("2026-10-28T13:00:00Z"), missed: true, routed: true})
		checkCall(t, s, "+447700900123", wantCall{line: maintenance, status: "cancelled", started: utc("2026-10-30T09:30:00Z"), missed: true, routed: true})

		// The same file again adds nothing.
		code, out, errOut = runCLI(t, url, nil, "import", "calls", path)
		if code != 0 {
			t.Fatalf("re-import: exit %d\n%s%s", code, out, errOut)
		}
		checkOutput(t, out, append([]string{
			"imported 0 calls (0 missed, 0 after hours) from 25 rows; 4 skipped; 21 already known",
		}, pbxNotes...)...)
		if got := callTable(t, s); got != want {
			t.Errorf("after re-import: %+v, want %+v", got, want)
		}

		// --all-lines keeps the call to the unknown number, unrouted;
		// the dry run says so exactly and writes nothing.
		code, out, errOut = runCLI(t, url, nil, "import", "calls", "--all-lines", "--dry-run", path)
		if code != 0 {
			t.Fatalf("dry run --all-lines: exit %d\n%s%s", code, out, errOut)
		}
		checkOutput(t, out, append([]string{
			`columns: time "Date/Time" (dates day first (30/11/2026) in Europe/London), from "Caller ID", to "Dialled Number", status "Status", duration "Talk Time"`,
			"dry run, nothing written: would import 1 call (0 missed, 0 after hours) from 25 rows; 3 skipped; 21 already known",
		}, pbxNotes[1:]...)...)
		if got := callTable(t, s); got != want {
			t.Errorf("after a dry run: %+v, want %+v", got, want)
		}
		code, out, errOut = runCLI(t, url, nil, "import", "calls", path, "--all-lines")
		if code != 0 || lines(out)[0] != "imported 1 call (0 missed, 0 after hours) from 25 rows; 3 skipped; 21 already known" {
			t.Fatalf("--all-lines: exit %d\n%s%s", code, out, errOut)
		}
		want.Calls, want.Imported = 22, 22
		if got := callTable(t, s); got != want {
			t.Errorf("after --all-lines: %+v, want %+v", got, want)
		}
		checkCall(t, s, "+447700900109", wantCall{line: "+441632960099", status: "answered", started: utc("2026-10-21T10:45:00Z"), duration: 180})
		checkNothingElse(t, s)
	})
}

// Separate date and time columns, US-style dates named by --time-format,
// naive times in the zone --tz names.
func TestImportCallsSplitDateTime(t *testing.T) {
	path := filepath.Join("testdata", "calls_split.csv")
	args := []string{"import", "calls", "--time-format", "01/02/2006 3:04 PM", "--tz", "America/New_York", path}
	storetest.EachURL(t, func(t *testing.T, url string) {
		code, out, errOut := runCLI(t, url, nil, args...)
		if code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		notes := []string{
			"line 9: same call as line 7: counted once",
			`line 12: "13/05/2026 9:00 AM" is not a time (--time-format)`,
		}
		checkOutput(t, out, append([]string{"imported 9 calls (6 missed, 3 after hours) from 11 rows; 1 skipped; 1 already known"}, notes...)...)

		s := storetest.Open(t, url)
		want := callTotals{Calls: 9, Missed: 6, AfterHours: 3, Routed: 9, Imported: 9}
		if got := callTable(t, s); got != want {
			t.Errorf("calls table: %+v, want %+v", got, want)
		}
		checkNothingElse(t, s)
		at := func(s string) time.Time {
			v, _ := time.Parse(time.RFC3339, s)
			return v
		}
		// 4:15 AM in New York is 09:15 in London: Lettings is open.
		checkCall(t, s, "+15551234001", wantCall{line: lettings, status: "yes", started: at("2026-11-02T09:15:00Z"), duration: 120, routed: true})
		checkCall(t, s, "+15551234002", wantCall{line: lettings, status: "no", started: at("2026-11-02T17:40:00Z"), missed: true, afterHours: true, routed: true})
		checkCall(t, s, "+15551234004", wantCall{line: maintenance, status: "no", started: at("2026-11-03T07:05:00Z"), missed: true, afterHours: true, routed: true})
		checkCall(t, s, "+15551234006", wantCall{line: maintenance, status: "no", started: at("2026-11-07T12:30:00Z"), missed: true, routed: true})
		// No status: the talk time decides.
		checkCall(t, s, "+15551234008", wantCall{line: lettings, status: "missed", started: at("2026-11-05T16:00:00Z"), missed: true, routed: true})
		checkCall(t, s, "+15551234009", wantCall{line: lettings, status: "answered", started: at("2026-11-05T16:05:00Z"), duration: 45, routed: true})

		code, out, errOut = runCLI(t, url, nil, args...)
		if code != 0 {
			t.Fatalf("re-import: exit %d\n%s%s", code, out, errOut)
		}
		checkOutput(t, out, append([]string{"imported 0 calls (0 missed, 0 after hours) from 11 rows; 1 skipped; 10 already known"}, notes...)...)
		if got := callTable(t, s); got != want {
			t.Errorf("after re-import: %+v, want %+v", got, want)
		}
	})
}

func TestImportCallsDryRun(t *testing.T) {
	pbx := filepath.Join("testdata", "calls_pbx.csv")
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		url := storetest.URL(t, backend)
		// Before any migration: the file is checked, the schema left alone.
		code, out, errOut := runCLI(t, url, nil, "import", "calls", "--dry-run", pbx)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		checkOutput(t, out, append([]string{
			`columns: time "Date/Time" (dates day first (30/11/2026) in Europe/London), from "Caller ID", to "Dialled Number", status "Status", duration "Talk Time"`,
			"dry run, nothing written: would import 21 calls (13 missed, 7 after hours) from 25 rows; 4 skipped; 0 already known",
			"note: the database is not migrated yet, so counts assume it holds no calls",
		}, pbxNotes...)...)
		s := storetest.Open(t, url)
		if cur, _, err := s.SchemaVersion(ctx); err != nil || cur != 0 {
			t.Fatalf("schema version %d, %v after a dry run; want 0", cur, err)
		}

		// On a database with calls: exact counts, nothing written.
		split := []string{"import", "calls", "--time-format", "01/02/2006 3:04 PM", "--tz", "America/New_York", filepath.Join("testdata", "calls_split.csv")}
		if code, out, errOut := runCLI(t, url, nil, split...); code != 0 {
			t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = runCLI(t, url, nil, append(split, "--dry-run")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if got := lines(out)[1]; got != "dry run, nothing written: would import 0 calls (0 missed, 0 after hours) from 11 rows; 1 skipped; 10 already known" {
			t.Errorf("dry run over imported calls: %q", got)
		}
		code, out, errOut = runCLI(t, url, nil, "import", "calls", pbx, "--dry-run")
		if code != 0 || lines(out)[1] != "dry run, nothing written: would import 21 calls (13 missed, 7 after hours) from 25 rows; 4 skipped; 0 already known" {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
		if got := callTable(t, s); got.Calls != 9 {
			t.Errorf("%d calls after dry runs, want 9", got.Calls)
		}
	})
}

// Columns the flags name; an export without a to column, for one line.
func TestImportCallsFlags(t *testing.T) {
	url := storetest.URL(t, "sqlite")
	path := writeCSV(t, "When,Who,Line No,Result,Secs\n"+
		"2026-11-02T09:15:00Z,07700 900001,01632 960001,Answered,61\n"+
		"2026-11-02T19:15:00+01:00,07700 900002,01632 960002,no answer,0\n")
	code, out, errOut := runCLI(t, url, nil, "import", "calls", path)
	if code != 1 {
		t.Fatalf("undetectable: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`ringback import calls: export.csv: no time, from, to column among the headers "When", "Who", "Line No", "Result", "Secs": name them with --time-col, --from-col, --to-col (or --line)`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	code, out, errOut = runCLI(t, url, nil, "import", "calls", "--time-col", "when", "--from-col=WHO", "--to-col", "line no",
		"--status-col", "Result", "--duration-col", "secs", "--time-format", "rfc3339", path)
	if code != 0 {
		t.Fatalf("with flags: exit %d\n%s%s", code, out, errOut)
	}
	checkOutput(t, out, "imported 2 calls (1 missed, 1 after hours) from 2 rows; 0 skipped; 0 already known")
	s := storetest.Open(t, url)
	checkCall(t, s, "+447700900002", wantCall{line: maintenance, status: "no answer", started: time.Date(2026, 11, 2, 18, 15, 0, 0, time.UTC), missed: true, afterHours: true, routed: true})

	// A flag naming a header that is not there lists the headers.
	code, _, errOut = runCLI(t, url, nil, "import", "calls", "--time-col", "Start", path)
	if code != 1 || !strings.Contains(errOut, `--time-col "Start" matches no header; the headers are "When", "Who"`) {
		t.Errorf("unknown --time-col: exit %d\n%s", code, errOut)
	}

	// No to column: --line names the line. A title row above the header
	// is passed over.
	path = writeCSV(t, "Call report 01/11/2026 - 07/11/2026\n\nStarted,Caller,Outcome\n2026-11-02 07:45,07700 900003,missed\n2026-11-02 08:15,private,answered\n")
	code, out, errOut = runCLI(t, url, nil, "import", "calls", "--line", "maintenance", path)
	if code != 0 {
		t.Fatalf("--line: exit %d\n%s%s", code, out, errOut)
	}
	checkOutput(t, out, "imported 2 calls (1 missed, 1 after hours) from 2 rows; 0 skipped; 0 already known")
	checkCall(t, s, "+447700900003", wantCall{line: maintenance, status: "missed", started: time.Date(2026, 11, 2, 7, 45, 0, 0, time.UTC), missed: true, afterHours: true, routed: true})
	if code, _, errOut := runCLI(t, url, nil, "import", "calls", "--line", "Sales", path); code != 1 || !strings.Contains(errOut, `ringback import calls: --line "Sales" is no configured line (lines: Lettings +441632960001, Maintenance +441632960002)`) {
		t.Errorf("--line Sales: exit %d\n%s", code, errOut)
	}
}

// Dates that read both day first and month first are read as the region
// writes them, and the report says so.
func TestImportCallsAmbiguousDates(t *testing.T) {
	url := storetest.URL(t, "sqlite")
	path := writeCSV(t, "Time;From;To;Status\n02/11/2026 09:15;07700 900001;01632 960001;missed\n03/11/2026 09:15;07700 900002;01632 960001;missed\n")
	code, out, errOut := runCLI(t, url, nil, "import", "calls", path)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	checkOutput(t, out, "imported 2 calls (2 missed, 0 after hours) from 2 rows; 0 skipped; 0 already known",
		`note: times could be read day first (30/11/2026) or month first (11/30/2026); read day first (30/11/2026): if that is wrong, give --time-format`)
	checkCall(t, storetest.Open(t, url), "+447700900001", wantCall{line: lettings, status: "missed", started: time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC), missed: true, routed: true})
}

// Calls Ringback recorded itself in the file's period are pointed out:
// the same call imported would count twice.
func TestImportCallsOverlapsLiveCalls(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		s := storetest.Migrated(t, url)
		ctx := context.Background()
		at := time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)
		live := store.Call{SID: "CA0001", Provider: "twilio", LineNumber: lettings, Routed: true, CallerNumber: "+447700900106",
			Status: "completed", StartedAt: at, CreatedAt: at, UpdatedAt: at}
		if _, err := s.InsertCall(ctx, &live); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, url, nil, "import", "calls", filepath.Join("testdata", "calls_pbx.csv"))
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if got := lines(out)[1]; got != "note: Ringback itself recorded 1 call in the file's period: a call in both counts twice in the digest" {
			t.Errorf("note = %q", got)
		}
	})
}

func TestImportCallsNothingToImport(t *testing.T) {
	url := checkNothingImported(t, "calls", "Time,From,To,Status\n", map[string]failedImport{
		"every row bad":   {writeCSV(t, "Time,From,To,Status\n2026-11-02 09:00,123,01632 960001,missed\n2026-11-02 09:00,07700 900001,01632 960001,maybe\n"), "ringback import calls: export.csv: nothing imported"},
		"unreadable time": {writeCSV(t, "Time,From,To,Status\nyesterday,07700 900001,01632 960001,missed\n"), `ringback import calls: export.csv: cannot read the times in "Time" (such as "yesterday"): give their layout with --time-format`},
		"no header":       {writeCSV(t, "2026-11-02 09:00,07700 900001,01632 960001,missed\n"), "ringback import calls: export.csv: no time, from, to, status column among the headers \"2026-11-02 09:00\""},
	})
	if code, _, errOut := runCLI(t, url, nil, "import", "calls"); code != ExitUsage || !strings.Contains(errOut, "ringback import calls: want one FILE.csv") {
		t.Errorf("no file: exit %d\n%s", code, errOut)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1204: "1,204", 100000: "100,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseUnixTimes(t *testing.T) {
	tr := timeReader{unix: true}
	for in, want := range map[string]time.Time{
		"1793610000":    time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		"1793610000000": time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
	} {
		if got, ok := tr.parse(in); !ok || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
	if _, ok := tr.parse("17936e5"); ok {
		t.Error("17936e5 read as a unix time")
	}
}

// writeLargeLog writes rows calls spread over two lines and a year, a tenth
// of them missed.
func writeLargeLog(t testing.TB, rows int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("Start Time,Caller,Called,Result,Duration\n")
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	for i := range rows {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		status, dur := "answered", 30+i%300
		if i%10 == 0 {
			status, dur = "no-answer", 0
		}
		fmt.Fprintf(&b, "%s,07700 9%05d,01632 96000%d,%s,%d\n", at.Format("2006-01-02 15:04:05"), i%100000, 1+i%2, status, dur)
	}
	p := filepath.Join(t.TempDir(), "large.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Rows beyond one INSERT's batch all arrive, in one transaction; the rate
// is logged (go test -v), and BenchmarkImportCalls measures 100,000 rows.
// The after-hours count was worked out apart from this code: every 5
// minutes from Monday 5 January 2026 08:00 (GMT), alternating lines.
func TestImportCallsMany(t *testing.T) {
	const rows = 2_345
	path := writeLargeLog(t, rows)
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		url := storetest.URL(t, backend)
		storetest.Migrated(t, url) // time the import alone
		start := time.Now()
		code, out, errOut := runCLI(t, url, nil, "import", "calls", path)
		took := time.Since(start)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		checkOutput(t, out, "imported 2,345 calls (235 missed, 1,596 after hours) from 2,345 rows; 0 skipped; 0 already known")
		t.Logf("%s: imported %d rows in %v: %.0f rows/s", backend, rows, took.Round(time.Millisecond), rows/took.Seconds())
		want := callTable(t, storetest.Open(t, url))
		if want.Calls != rows || want.Missed != 235 || want.AfterHours != 1596 {
			t.Errorf("calls table: %+v", want)
		}
		code, out, _ = runCLI(t, url, nil, "import", "calls", path)
		if code != 0 {
			t.Fatalf("re-import: exit %d", code)
		}
		checkOutput(t, out, "imported 0 calls (0 missed, 0 after hours) from 2,345 rows; 0 skipped; 2,345 already known")
		if got := callTable(t, storetest.Open(t, url)); got != want {
			t.Errorf("after re-import: %+v, want %+v", got, want)
		}
	})
}

// BenchmarkImportCalls imports a 100,000-row call log into an empty
// database: go test -run '^$' -bench ImportCalls ./cli/
func BenchmarkImportCalls(b *testing.B) {
	const rows = 100_000
	path := writeLargeLog(b, rows)
	storetest.EachBackend(b, func(b *testing.B, backend string) {
		for b.Loop() {
			b.StopTimer()
			url := storetest.URL(b, backend)
			storetest.Migrated(b, url) // time the import alone
			b.StartTimer()
			if code, out, errOut := runCLI(b, url, nil, "import", "calls", path); code != 0 || !strings.HasPrefix(out, "imported 100,000 calls") {
				b.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
