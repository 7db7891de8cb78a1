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

func ratio(num, den int) *bot.Ratio { return &bot.Ratio{Num: num, Den: den} }

func spread(n int, med, p90 time.Duration) *bot.Spread {
	return &bot.Spread{Count: n, Median: med, P90: p90}
}

func age(d time.Duration) *time.Duration { return &d }

// sampleDigest is a week of two lines, written out by hand so the golden
// file changes only when the rendering does.
func sampleDigest() bot.Digest {
	london, _ := time.LoadLocation("Europe/London")
	from := time.Date(2026, 11, 9, 0, 0, 0, 0, london)
	lettings := bot.Figures{
		Calls: 120, Missed: 30, MissRate: ratio(30, 120), AfterHours: ratio(9, 30), Cases: 26,
		TextBackWithin90s: ratio(25, 26), CallerReplies: ratio(14, 25),
		TimeToClaim: spread(24, 4*time.Minute, 11*time.Minute), TimeToContactAll: spread(22, 13*time.Minute, 48*time.Minute),
		TimeToContact: []bot.CategorySpread{
			{Category: "viewing", Label: "Viewing / lettings", Time: spread(15, 9*time.Minute, 30*time.Minute)},
			{Category: "maintenance", Label: "Maintenance"},
		},
		TriagedWithin5m: ratio(18, 26), ContactRate: ratio(17, 21), FirstCycle: ratio(12, 21), Repeat24h: ratio(3, 26),
		Escalated: ratio(4, 26), EscalationLevels: map[int]int{1: 4, 2: 1}, Backlog: 3, OldestOpen: age(50 * time.Hour),
	}
	lettings.PeakHours[time.Monday][9] = 6
	lettings.PeakHours[time.Monday][12] = 4
	maint := bot.Figures{
		Calls: 40, Missed: 12, MissRate: ratio(12, 40), AfterHours: ratio(5, 12), Cases: 11,
		TextBackWithin90s: ratio(11, 11), CallerReplies: ratio(8, 11),
		TimeToClaim: spread(10, 6*time.Minute, 20*time.Minute), TimeToContactAll: spread(9, 25*time.Minute, 2*time.Hour),
		TimeToContact: []bot.CategorySpread{
			{Category: "viewing", Label: "Viewing / lettings"},
			{Category: "maintenance", Label: "Maintenance", Time: spread(9, 25*time.Minute, 2*time.Hour)},
		},
		TriagedWithin5m: ratio(9, 11), ContactRate: ratio(7, 9), FirstCycle: ratio(5, 9), Repeat24h: ratio(1, 11),
		Escalated: ratio(2, 11), EscalationLevels: map[int]int{1: 2}, Backlog: 1, OldestOpen: age(20 * time.Hour),
	}
	maint.PeakHours[time.Tuesday][8] = 3
	total := bot.Figures{
		Calls: 160, Missed: 42, MissRate: ratio(42, 160), AfterHours: ratio(14, 42), Cases: 37,
		TextBackWithin90s: ratio(36, 37), CallerReplies: ratio(22, 36),
		TimeToClaim: spread(34, 5*time.Minute, 14*time.Minute), TimeToContactAll: spread(31, 16*time.Minute, 70*time.Minute),
		TimeToContact: []bot.CategorySpread{
			{Category: "viewing", Label: "Viewing / lettings", Time: spread(15, 9*time.Minute, 30*time.Minute)},
			{Category: "maintenance", Label: "Maintenance", Time: spread(9, 25*time.Minute, 2*time.Hour)},
		},
		TriagedWithin5m: ratio(27, 37), ContactRate: ratio(24, 30), FirstCycle: ratio(17, 30), Repeat24h: ratio(4, 37),
		Escalated: ratio(6, 37), EscalationLevels: map[int]int{1: 6, 2: 1}, Backlog: 4, OldestOpen: age(50 * time.Hour),
	}
	total.PeakHours[time.Monday][9] = 6
	total.PeakHours[time.Monday][12] = 4
	total.PeakHours[time.Tuesday][8] = 3
	prev := total
	prev.Missed, prev.Calls, prev.MissRate, prev.TimeToClaim, prev.Backlog = 36, 150, ratio(36, 150), spread(30, 7*time.Minute, 16*time.Minute), 6
	prevLettings := lettings
	prevLettings.Missed, prevLettings.MissRate = 27, ratio(27, 110)

	d := bot.Digest{
		Period: bot.Period{From: from, To: from.AddDate(0, 0, 7), Label: "2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)"},
		Zone:   london,
		KPIs: bot.KPIs{Total: total, Lines: []bot.LineKPIs{
			{Name: "Lettings", Number: "+441632960001", Figures: lettings},
			{Name: "Maintenance", Number: "+441632960002", Figures: maint},
		}},
		Previous: bot.KPIs{
			Period: bot.Period{From: from.AddDate(0, 0, -7), To: from, Label: "2026-W45 (Mon 2 Nov – Sun 8 Nov 2026)"},
			Total:  prev,
			Lines: []bot.LineKPIs{
				{Name: "Lettings", Number: "+441632960001", Figures: prevLettings},
				{Name: "Maintenance", Number: "+441632960002", Figures: maint},
			},
		},
		Staff: []bot.StaffRow{
			{User: "U0ALICE", Claims: 20, Contacted: 18, FirstContact: age(11 * time.Minute), Closed: 17, Outcomes: map[string]int{"booked": 9, "reached": 6, "spam": 2}},
			{User: "U0BOB", Claims: 14, Contacted: 13, FirstContact: age(21 * time.Minute), Closed: 11, Outcomes: map[string]int{"resolved": 8, "no_contact": 3}},
		},
		Oldest: []bot.QueueItem{
			{CaseID: 41, Ref: "#41", Age: 50 * time.Hour, Line: "Lettings", Category: "Viewing / lettings", Caller: "Jane Smith (tenant)", CardChannel: "C0LETTINGS", CardMessage: "1762855200.000100"},
			{CaseID: 57, Ref: "#57", Age: 20 * time.Hour, Line: "Maintenance", Owner: "U0BOB", Caller: "07700 900124 <!here>"},
		},
		Names: map[string]string{"U0ALICE": "Alice Jones", "U0BOB": "Bob <@U0BOSS> Brown"},
	}
	for i, v := range [][2]int{{9, 7}, {8, 8}, {6, 5}, {7, 4}, {8, 6}, {3, 2}, {1, 1}} {
		d.Daily = append(d.Daily, bot.DayCount{Day: from.AddDate(0, 0, i), Missed: v[0], Reached: v[1]})
	}
	return d
}

func TestDigestGoldenFile(t *testing.T) {
	link := func(ch, ts string) string {
		return "https://northside.slack.com/archives/" + ch + "/p" + strings.ReplaceAll(ts, ".", "")
	}
	raw := golden.Check(t, "digest", slack.Blocks{BlockSet: rbslack.DigestBlocks(sampleDigest(), link)})
	checkLimits(t, raw)
	text := string(raw)
	for _, want := range []string{
		"Miss rate", "26% (42/160)", "▲ 2 pts", // the headline with its change
		"Lettings", "Maintenance", "reached level 2", // every line, every KPI
		"Alice Jones", "booked", // the staff table, by name
		"<https://northside.slack.com/archives/C0LETTINGS/p1762855200000100|#41>", // the oldest case's card
		"Mon 9 Nov",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the digest lacks %q", want)
		}
	}
	for _, bad := range []string{"<!here>", "<@U0BOSS>", "<@U0ALICE>"} {
		if strings.Contains(text, bad) {
			t.Errorf("the digest contains %s: outside text unescaped, or a mention that pings", bad)
		}
	}
}

// A business with many lines still gets a digest Slack accepts.
func TestDigestWithManyLinesStaysWithinLimits(t *testing.T) {
	d := sampleDigest()
	for i := range 60 {
		l := d.KPIs.Lines[0]
		l.Name, l.Number = "Branch "+strings.Repeat("x", i%5)+string(rune('A'+i%26)), "+44163296"+string(rune('0'+i/10))+string(rune('0'+i%10))
		d.KPIs.Lines = append(d.KPIs.Lines, l)
	}
	raw := golden.JSON(t, slack.Blocks{BlockSet: rbslack.DigestBlocks(d, nil)})
	checkLimits(t, raw)
	if !strings.Contains(string(raw), "more lines") {
		t.Error("the lines left out are not mentioned")
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

func TestDigestIsPostedOnceWithItsChart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newDigestSetup(t, s)
		open := x.week(t)
		x.slack.Reset()
		if !x.enqueue(t) {
			t.Fatal("the digest was not queued")
		}
		x.flush(t)

		msgs := x.slack.Messages("C0DIGEST")
		if len(msgs) != 2 {
			t.Fatalf("%d messages in the digest channel, want the digest and its chart: %+v", len(msgs), msgs)
		}
		digest := string(msgs[0].Blocks)
		for _, want := range []string{
			"Weekly digest, 2026-W46 (Mon 9 Nov – Sun 15 Nov 2026)",
			"Miss rate", "100% (2/2)", // both calls of the week were missed
			"Time to claim (median)", "3 min",
			"Alice Jones",                           // the staff table, named through users.info
			"#" + itoa(open), "/archives/C0MAINT/p", // the open case, linked to its card
		} {
			if !strings.Contains(digest, want) {
				t.Errorf("the digest lacks %q:\n%s", want, digest)
			}
		}
		if !strings.Contains(msgs[0].Text, "2 missed calls") {
			t.Errorf("notification text %q", msgs[0].Text)
		}

		files := x.slack.Files()
		if len(files) != 1 || len(files[0].Channels) != 1 || files[0].Channels[0] != "C0DIGEST" || len(msgs[1].Files) != 1 {
			t.Fatalf("uploads %+v", files)
		}
		f := files[0]
		if !strings.HasSuffix(f.Name, ".png") || !strings.Contains(f.Title, "2026-W46") || f.Length != len(f.Data) {
			t.Errorf("file %s %q, %d of %d bytes", f.Name, f.Title, len(f.Data), f.Length)
		}
		img, err := png.Decode(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatalf("the uploaded file is not a PNG: %v", err)
		}
		if img.Bounds().Dx() < 800 {
			t.Errorf("chart is %v", img.Bounds())
		}

		// The scheduler on another replica, or after a restart, queues the
		// same week again: nothing more is posted.
		if x.enqueue(t) {
			t.Error("the same week's digest was queued twice")
		}
		x.clock.Advance(time.Hour)
		x.flush(t)
		if n := len(x.slack.Messages("C0DIGEST")); n != 2 || len(x.slack.Files()) != 1 {
			t.Fatalf("after a second pass: %d messages, %d files", n, len(x.slack.Files()))
		}
	})
}

// A failed upload is retried on its own: the digest is not posted again.
func TestDigestChartRetriedAlone(t *testing.T) {
	x := newDigestSetup(t, storetest.New(t, "sqlite"))
	x.week(t)
	x.slack.Reset()
	x.slack.FailNext("files.completeUploadExternal", 1, 503, 0)
	x.enqueue(t)
	x.flush(t)
	if n, f := len(x.slack.Messages("C0DIGEST")), len(x.slack.Files()); n != 1 || f != 0 {
		t.Fatalf("after the failed upload: %d messages, %d files; want the digest alone", n, f)
	}
	x.clock.Advance(time.Minute) // past the first retry's backoff
	x.flush(t)
	if n, f := len(x.slack.Messages("C0DIGEST")), len(x.slack.Files()); n != 2 || f != 1 {
		t.Fatalf("after the retry: %d messages, %d files; want the digest and one chart", n, f)
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
