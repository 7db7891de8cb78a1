package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/bot/slack/slackstandin"
	"ringback/config"
	"ringback/store/storetest"
)

// seedLastWeek works a few calls through the bot in the last full week, the
// one `ringback digest` shows by default:
//
//	Monday  10:00 Lettings     missed → Alice claims 10:04, calls back (reached) 10:10,
//	                           closes it booked 10:15
//	Monday  11:00 Lettings     answered
//	Tuesday 15:00 Maintenance  missed, left unclaimed
//
// It returns the week's name ("2026-W46").
func seedLastWeek(t *testing.T, databaseURL string) string {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	week, err := bot.ISOWeek("last", time.Now(), cfg.Business.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	s := storetest.Migrated(t, databaseURL)
	local := func(day, hour, minute int) time.Time {
		m := week.From.In(cfg.Business.Timezone)
		return time.Date(m.Year(), m.Month(), m.Day()+day, hour, minute, 0, 0, cfg.Business.Timezone)
	}
	clock := bot.NewManualClock(local(0, 10, 0))
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := b.SyncTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	alice := bot.Actor{ID: "U0ALICE", Name: "Alice Jones", Staff: true}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA1", From: "+447700900123", To: "+441632960001", Outcome: bot.CallMissed, Status: "no-answer"})
	must(res, err)
	clock.Set(local(0, 10, 4))
	must(b.Claim(ctx, res.CaseID, alice))
	clock.Set(local(0, 10, 10))
	must(b.LogCallback(ctx, res.CaseID, alice, "reached", ""))
	clock.Set(local(0, 10, 15))
	must(b.Close(ctx, res.CaseID, alice, "booked", "viewing on Friday"))
	clock.Set(local(0, 11, 0))
	must(b.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA2", From: "+447700900124", To: "+441632960001", Outcome: bot.CallAnswered, Status: "completed"}))
	clock.Set(local(1, 15, 0))
	must(b.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA3", From: "+447700900125", To: "+441632960002", Outcome: bot.CallMissed, Status: "no-answer"}))
	y, w := week.From.In(cfg.Business.Timezone).ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

func TestDigestCommandFormats(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, db string) {
		week := seedLastWeek(t, db)

		code, out, errOut := runCLI(t, db, nil, "digest")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"Weekly digest, " + week, "All lines", "Lettings", "Maintenance",
			"Miss rate", "67%", "2/3", "U0ALICE", "10 min", "booked", "By day"} {
			if !strings.Contains(out, want) {
				t.Errorf("text lacks %q:\n%s", want, out)
			}
		}

		code, out, errOut = runCLI(t, db, nil, "digest", "--week", week, "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var doc struct {
			Period struct{ Label string }
			KPIs   []struct {
				Scope, KPI string
				Value      *float64
			} `json:"kpis"`
			Staff []struct {
				User        string
				MedianFirst *int64 `json:"median_first_contact_s"`
			}
			Daily []struct{ Missed, Reached int }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		missed := -1.0
		for _, k := range doc.KPIs {
			if k.Scope == "total" && k.KPI == "missed_calls" {
				missed = *k.Value
			}
		}
		if !strings.HasPrefix(doc.Period.Label, week) || missed != 2 || len(doc.Staff) != 1 || *doc.Staff[0].MedianFirst != 600 {
			t.Errorf("JSON: %s", out)
		}
		if len(doc.Daily) != 7 || doc.Daily[0].Missed != 1 || doc.Daily[0].Reached != 1 || doc.Daily[1].Missed != 1 {
			t.Errorf("JSON days %+v", doc.Daily)
		}

		code, out, errOut = runCLI(t, db, nil, "digest", "--week", week, "--line", "maintenance", "--format", "csv")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]string{}
		for _, r := range records[1:] {
			if r[0] != "Maintenance" {
				t.Fatalf("a row of another scope in a one-line digest: %v", r)
			}
			rows[r[1]] = strings.Join(r[2:], ",")
		}
		if rows["missed_calls"] != "1,,,0,1" || rows["miss_rate"] != "100,1,1,," || rows["backlog"] != "1,,,0,1" {
			t.Errorf("CSV rows %v", rows)
		}

		chart := filepath.Join(t.TempDir(), "digest.png")
		code, out, errOut = runCLI(t, db, nil, "digest", "--week", week, "--format", "csv", "--png", chart)
		if code != 0 || !strings.Contains(errOut, "chart written") || !strings.HasPrefix(out, "scope,kpi,") {
			t.Fatalf("exit %d: stdout %q, stderr %s", code, out[:min(len(out), 40)], errOut)
		}
		raw, err := os.ReadFile(chart)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil || img.Bounds().Dx() < 800 {
			t.Fatalf("--png wrote no readable chart: %v", err)
		}
	})
}

func TestDigestCommandRefusesBadInput(t *testing.T) {
	db := storetest.URL(t, "sqlite")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--week", "2026-W60"}, "has no week 60"},
		{[]string{"--week", "next tuesday"}, "write it like 2026-W46"},
		{[]string{"--week", "2099-W01"}, "has not started"},
		{[]string{"--format", "xml"}, "want text, json or csv"},
		{[]string{"--line", "Sales"}, "Lettings, Maintenance"},
		{[]string{"--post"}, "SLACK_BOT_TOKEN"},
		{[]string{"last"}, "unexpected argument"},
	} {
		code, out, errOut := runCLI(t, db, nil, append([]string{"digest"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("digest %v: exit %d, stderr %q, stdout %q; want a refusal naming %q", c.args, code, errOut, out, c.want)
		}
	}
}

func TestDigestCommandPosts(t *testing.T) {
	db := storetest.URL(t, "sqlite")
	week := seedLastWeek(t, db)
	srv := slackstandin.NewServer("xoxb-cli")
	t.Cleanup(srv.Close)
	srv.AddUser("U0ALICE", "alice", "Alice Jones")
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_API_URL": srv.URL}

	code, _, errOut := runCLI(t, db, env, "digest", "--post")
	if code != 0 || !strings.Contains(errOut, "posted to Slack channel C0DIGEST") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	msgs := srv.Messages("C0DIGEST")
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Blocks), "Weekly digest, "+week) || !strings.Contains(string(msgs[0].Blocks), `"slack_file"`) {
		t.Fatalf("digest channel: %+v", msgs)
	}
	thread := srv.Thread("C0DIGEST", msgs[0].TS)
	if len(thread) != 2 || !strings.Contains(string(thread[1].Blocks), "Alice Jones") {
		t.Fatalf("digest thread: %+v", thread)
	}
	files := srv.Files()
	if len(files) != 2 || len(files[0].Channels) != 0 || files[1].Channels[0] != "C0DIGEST" || !strings.HasSuffix(files[1].Name, ".csv") {
		t.Fatalf("uploads %+v; want the chart (shown by the post) and the CSV (in its thread)", files)
	}
	if _, err := png.Decode(bytes.NewReader(files[0].Data)); err != nil {
		t.Fatalf("the uploaded chart is not a PNG: %v", err)
	}
}
