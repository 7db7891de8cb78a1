package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// seedEvents writes two cases and six events around the week of
// 20-26 October 2026 in London, which starts in summer time (UTC+1) and
// ends in winter time.
func seedEvents(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	s := storetest.Migrated(t, url)
	at := func(v string) time.Time {
		p, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	err := s.InTx(ctx, func(tx *store.Tx) error {
		c1 := store.Case{LineNumber: lettings, CallerNumber: "+447700900001", State: store.CaseOpen, Origin: "call",
			CreatedAt: at("2026-10-19T22:59:00Z"), UpdatedAt: at("2026-10-19T22:59:00Z")}
		c2 := store.Case{LineNumber: maintenance, CallerNumber: "", State: store.CaseOpen, Origin: "call",
			CreatedAt: at("2026-10-20T07:59:00Z"), UpdatedAt: at("2026-10-20T07:59:00Z")}
		for _, c := range []*store.Case{&c1, &c2} {
			if _, err := tx.InsertCase(ctx, c); err != nil {
				return err
			}
		}
		for _, e := range []struct {
			c           *store.Case
			at          string
			kind, actor string
			data        any
		}{
			{&c1, "2026-10-19T22:59:59Z", "case_opened", "", map[string]any{"origin": "call"}},                            // 23:59:59 on the 19th in London
			{&c1, "2026-10-19T23:00:00Z", "sms_in", "", map[string]any{"body": "Hi, it's \"Flat 2\",\nthe boiler's out"}}, // midnight on the 20th
			{&c2, "2026-10-20T08:00:00Z", "claimed", "U0ALICE", nil},
			{&c1, "2026-10-26T12:00:00.5Z", "closed", "U0BOB", map[string]any{"outcome": "booked", "note": "Rang back; viewing Tue"}},
			{&c2, "2026-10-26T23:59:59Z", "escalated", "", map[string]any{"level": 1, "notify": "channel"}},
			{&c2, "2026-10-27T00:00:00Z", "reopened", "U0ALICE", nil}, // midnight on the 27th (GMT): --to is exclusive
		} {
			if err := tx.AddEvent(ctx, e.c.ID, at(e.at), e.kind, e.actor, e.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const wantEventsCSV = `event_id,case,at,kind,actor,line,caller,data
2,#1,2026-10-19T23:00:00Z,sms_in,,+441632960001,+447700900001,"{""body"":""Hi, it's \""Flat 2\"",\nthe boiler's out""}"
3,#2,2026-10-20T08:00:00Z,claimed,U0ALICE,+441632960002,,{}
4,#1,2026-10-26T12:00:00Z,closed,U0BOB,+441632960001,+447700900001,"{""note"":""Rang back; viewing Tue"",""outcome"":""booked""}"
5,#2,2026-10-26T23:59:59Z,escalated,,+441632960002,,"{""level"":1,""notify"":""channel""}"
`

func TestExportEvents(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		seedEvents(t, url)

		code, out, errOut := runCLI(t, url, nil, "export", "events", "--from", "2026-10-20", "--to", "2026-10-27")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if out != wantEventsCSV {
			t.Errorf("CSV:\n%s\nwant:\n%s", out, wantEventsCSV)
		}
		if !strings.Contains(errOut, "exported 4 events\n") {
			t.Errorf("stderr: %q", errOut)
		}

		// --out writes a file; RFC3339 bounds are instants.
		path := filepath.Join(t.TempDir(), "audit.csv")
		code, out, errOut = runCLI(t, url, nil, "export", "events", "--from", "2026-10-19T23:00:00Z", "--to", "2026-10-26T23:59:59Z", "--out", path)
		if code != 0 {
			t.Fatalf("--out: exit %d\n%s%s", code, out, errOut)
		}
		if out != "exported 3 events to "+path+"\n" {
			t.Errorf("stdout %q", out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(strings.Split(wantEventsCSV, "\n")[:4], "\n") + "\n"
		if string(data) != want {
			t.Errorf("file:\n%s\nwant:\n%s", data, want)
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Errorf("left behind: %v", entries)
		}

		// A period without events is the header alone.
		code, out, _ = runCLI(t, url, nil, "export", "events", "--from", "2026-12-01", "--to", "2026-12-08")
		if code != 0 || out != "event_id,case,at,kind,actor,line,caller,data\n" {
			t.Errorf("empty period: exit %d, %q", code, out)
		}
	})
}

func TestExportEventsErrors(t *testing.T) {
	url := storetest.URL(t, "sqlite")
	for name, tc := range map[string]struct {
		args   []string
		stderr string
		code   int
	}{
		"no database":  {[]string{"export", "events", "--from", "2026-10-20", "--to", "2026-10-27"}, "ringback export events: the database holds no Ringback tables yet", ExitFailure},
		"bad from":     {[]string{"export", "events", "--from", "20/10/2026", "--to", "2026-10-27"}, `ringback export events: --from "20/10/2026": want a date (2026-11-01, in Europe/London) or an RFC3339 time`, ExitFailure},
		"to not after": {[]string{"export", "events", "--from", "2026-10-27", "--to", "2026-10-27"}, "ringback export events: --to 2026-10-27 is not after --from 2026-10-27", ExitFailure},
		"no to":        {[]string{"export", "events", "--from", "2026-10-27"}, `ringback export events: required flag(s) "to" not set`, ExitUsage},
		"not events":   {[]string{"export", "calls"}, `ringback export: unknown command "calls"`, ExitUsage},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, url, nil, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, %q\nstdout:\n%s", code, errOut, tc.code, tc.stderr, out)
			}
		})
	}
}
