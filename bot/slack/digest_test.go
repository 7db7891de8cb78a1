package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"log/slog"
	"path/filepath"
	"ringback/bot/internal/golden"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"ringback/bot"
	rbslack "ringback/bot/slack"
	"ringback/bot/slack/slackstandin"
	"ringback/config"
	"ringback/sms"
	"ringback/sms/twiliostandin"
	"ringback/store"
	"ringback/store/storetest"
)

// The digest's post reads in thirty seconds: six headline figures against
// their targets with arrows, the chart, one line per line and the three
// oldest open cases, linked; every table goes in the thread.
func TestDigestGoldenFile(t *testing.T) {
	link := func(ch, ts string) string {
		return "https://northside.slack.com/archives/" + ch + "/p" + strings.ReplaceAll(ts, ".", "")
	}
	raw := golden.Check(t, "digest", slack.Blocks{BlockSet: rbslack.DigestBlocks(golden.SampleDigest(), link, "F0CHART")})
	checkLimits(t, raw)
	text := string(raw)
	for _, want := range []string{
		"*Text-back within 90 s* ✅", "97% (36/37) · target ≥ 95%", // a headline on target
		"*SLA met* ⚠️", "82% (28/34) · target ≥ 90%", // and one off it
		"*Time to claim (median)* ✅", "5 min · target ≤ 10 min · ▼ 2 min", // with the week's change
		"*Missed calls*", "42 (26% of 160 calls) · ▲ 6",
		`"slack_file"`, `"F0CHART"`, // the chart inline
		"• *Lettings*: 30 missed · text-back 96% · claim 4 min · SLA 79% · contact 81% · 3 open", // one line per line
		"<https://northside.slack.com/archives/C0LETTINGS/p1762855200000100|#41>",                // the oldest case's card
		"|#60>",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the digest lacks %q", want)
		}
	}
	for _, bad := range []string{"<!here>", "<@U0BOSS>", "<@U0ALICE>", "#63", "reached level 2", "By day"} {
		if strings.Contains(text, bad) {
			t.Errorf("the digest's post contains %s: outside text unescaped, a mention that pings, or what belongs in the thread", bad)
		}
	}
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil || len(blocks) > 8 {
		t.Errorf("the post has %d blocks; a thirty-second read has at most 8 (%v)", len(blocks), err)
	}

	raw = golden.Check(t, "digest_thread", slack.Blocks{BlockSet: rbslack.DigestDetailBlocks(golden.SampleDigest(), link)})
	checkLimits(t, raw)
	for _, want := range []string{"Lettings", "Maintenance", "reached level 2", "SLA met (contact in time)", "Alice Jones", "booked", "#63", "Mon 9 Nov"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the thread lacks %q", want)
		}
	}
}

// A business with many lines still gets a digest Slack accepts.
func TestDigestWithManyLinesStaysWithinLimits(t *testing.T) {
	d := golden.SampleDigest()
	for i := range 60 {
		l := d.KPIs.Lines[0]
		l.Name, l.Number = "Branch "+strings.Repeat("x", i%5)+string(rune('A'+i%26)), "+44163296"+string(rune('0'+i/10))+string(rune('0'+i%10))
		d.KPIs.Lines = append(d.KPIs.Lines, l)
	}
	raw := golden.JSON(t, slack.Blocks{BlockSet: rbslack.DigestBlocks(d, nil, "")})
	checkLimits(t, raw)
	if !strings.Contains(string(raw), "more lines") {
		t.Error("the post does not mention the lines left out")
	}
	raw = golden.JSON(t, slack.Blocks{BlockSet: rbslack.DigestDetailBlocks(d, nil)})
	checkLimits(t, raw)
	if !strings.Contains(string(raw), "more lines") {
		t.Error("the thread does not mention the lines left out")
	}
}

// digestSetup is a bot on a real store with a worker performing the bot's
// and the Slack adapter's outbox rows against the Slack stand-in.
type digestSetup struct {
	bot    *bot.Bot
	clock  *bot.ManualClock
	worker *bot.Worker
	slack  *slackstandin.Server
	store  *store.Store
}

func newDigestSetup(t *testing.T, s *store.Store) *digestSetup {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(filepath.Join("..", "..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tw := twiliostandin.NewServer("AC0123456789abcdef0123456789abcdef", "f0e1d2c3b4a5968778695a4b3c2d1e0f")
	t.Cleanup(tw.Close)
	srv := slackstandin.NewServer("xoxb-digest")
	t.Cleanup(srv.Close)
	srv.AddUser("U0ALICE", "alice", "Alice Jones")
	clock := bot.NewManualClock(time.Date(2026, 11, 9, 10, 0, 0, 0, time.UTC))
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: log, Chats: []string{rbslack.Platform},
		Texter: sms.NewTexter(sms.New("AC0123456789abcdef0123456789abcdef", "f0e1d2c3b4a5968778695a4b3c2d1e0f", tw.URL))})
	if err := b.SyncTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	w := bot.NewWorker(s, clock, "test", log)
	b.Register(w)
	a := rbslack.New("xoxb-digest", "", srv.URL, b, log)
	b.RegisterChat(w, a)
	a.Start(ctx)
	return &digestSetup{bot: b, clock: clock, worker: w, slack: srv, store: s}
}

func (x *digestSetup) flush(t *testing.T) {
	t.Helper()
	if _, err := x.worker.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// enqueue queues last week's digest as the scheduler does on Monday morning.
func (x *digestSetup) enqueue(t *testing.T) bool {
	t.Helper()
	job := bot.DigestJob{From: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), Label: "2026-W46"}
	_, inserted, err := x.store.Enqueue(context.Background(), store.NewOutbox{
		Kind: bot.KindDigest + "." + rbslack.Platform, DedupeKey: "digest:slack:2026-W46", Payload: job}, x.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return inserted
}

// week works two cases in 2026-W46: one called back and booked by Alice,
// one left unclaimed.
func (x *digestSetup) week(t *testing.T) int64 {
	t.Helper()
	ctx := context.Background()
	alice := bot.Actor{ID: "U0ALICE", Name: "Alice Jones", Staff: true}
	res, err := x.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA1", From: "+447700900123", To: "+441632960001", Outcome: bot.CallMissed, Status: "no-answer"})
	if err != nil {
		t.Fatal(err)
	}
	x.clock.Advance(3 * time.Minute)
	if _, err := x.bot.Claim(ctx, res.CaseID, alice); err != nil {
		t.Fatal(err)
	}
	x.clock.Advance(5 * time.Minute)
	if _, err := x.bot.LogCallback(ctx, res.CaseID, alice, "reached", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := x.bot.Close(ctx, res.CaseID, alice, "booked", "viewing Thursday"); err != nil {
		t.Fatal(err)
	}
	x.clock.Set(time.Date(2026, 11, 10, 15, 0, 0, 0, time.UTC))
	open, err := x.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA2", From: "+447700900124", To: "+441632960002", Outcome: bot.CallMissed, Status: "no-answer"})
	if err != nil {
		t.Fatal(err)
	}
	x.flush(t) // text-backs and cards, as the week went
	x.clock.Set(time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC))
	return open.CaseID
}

func TestDigestIsPostedOnceWithItsChartAndThread(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newDigestSetup(t, s)
		open := x.week(t)
		x.slack.Reset()
		if !x.enqueue(t) {
			t.Fatal("the digest was not queued")
		}
		x.flush(t)

		top := x.slack.Messages("C0DIGEST")
		if len(top) != 1 {
			t.Fatalf("%d messages in the digest channel, want the digest: %+v", len(top), top)
		}
		msgs := x.slack.Thread("C0DIGEST", top[0].TS)
		if len(msgs) != 2 || len(msgs[1].Files) != 1 {
			t.Fatalf("%d messages in the digest's thread, want the digest and its tables with the CSV: %+v", len(msgs), msgs)
		}
		digest := string(msgs[0].Blocks)
		for _, want := range []string{
			"Weekly digest, 2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)",
			"*Missed calls*", "2 (100% of 2 calls)", // both calls of the week were missed
			"*Time to claim (median)* ✅", "3 min",
			"#" + itoa(open), "/archives/C0MAINT/p", // the open case, linked to its card
			`"slack_file"`,
		} {
			if !strings.Contains(digest, want) {
				t.Errorf("the digest lacks %q:\n%s", want, digest)
			}
		}
		if !strings.Contains(msgs[0].Text, "2 missed calls") {
			t.Errorf("notification text %q", msgs[0].Text)
		}
		if thread := string(msgs[1].Blocks); !strings.Contains(thread, "Alice Jones") || !strings.Contains(thread, "every KPI") {
			t.Errorf("the thread lacks the tables (the staff table named through users.info):\n%s", thread)
		}

		files := x.slack.Files()
		if len(files) != 2 {
			t.Fatalf("uploads %+v, want the chart and the CSV", files)
		}
		chart, csvFile := files[0], files[1]
		if len(chart.Channels) != 0 || !strings.HasSuffix(chart.Name, ".png") || !strings.Contains(digest, chart.ID) {
			t.Errorf("chart %+v: shared nowhere, shown by the post", chart)
		}
		img, err := png.Decode(bytes.NewReader(chart.Data))
		if err != nil || img.Bounds().Dx() < 800 {
			t.Fatalf("the chart is not a wide PNG: %v", err)
		}
		if csvFile.Name != "ringback-digest-2026-W46.csv" || csvFile.ThreadTS != msgs[0].TS || !strings.HasPrefix(string(csvFile.Data), "scope,kpi,") {
			t.Errorf("CSV %s in thread %q: %.40q", csvFile.Name, csvFile.ThreadTS, csvFile.Data)
		}

		// The scheduler on another replica, or after a restart, queues the
		// same week again: nothing more is posted.
		if x.enqueue(t) {
			t.Error("the same week's digest was queued twice")
		}
		x.clock.Advance(time.Hour)
		x.flush(t)
		if n := len(x.slack.Thread("C0DIGEST", top[0].TS)); n != 2 || len(x.slack.Messages("C0DIGEST")) != 1 || len(x.slack.Files()) != 2 {
			t.Fatalf("after a second pass: %d messages, %d files", n, len(x.slack.Files()))
		}
	})
}

// A failed chart upload posts nothing: the retry posts the digest with its
// chart, then its thread, each once.
func TestDigestChartUploadFailureRetriesThePost(t *testing.T) {
	x := newDigestSetup(t, storetest.New(t, "sqlite"))
	x.week(t)
	x.slack.Reset()
	x.enqueue(t)
	x.slack.FailNext("upload", 1, 503, 0)
	x.flush(t)
	if n := len(x.slack.Messages("C0DIGEST")); n != 0 {
		t.Fatalf("after the failed chart upload: %d messages; want none yet", n)
	}
	x.clock.Advance(time.Minute) // past the row's backoff
	x.flush(t)
	top := x.slack.Messages("C0DIGEST")
	if len(top) != 1 || len(x.slack.Thread("C0DIGEST", top[0].TS)) != 2 || len(x.slack.Files()) != 2 {
		t.Fatalf("after the retry: %d posts, %d files; want the digest and its thread, the chart and the CSV", len(top), len(x.slack.Files()))
	}
	var blocks []map[string]any
	if err := json.Unmarshal(x.slack.Messages("C0DIGEST")[0].Blocks, &blocks); err != nil || blocks[0]["type"] != "header" {
		t.Fatalf("the first message is not the digest: %v", err)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
