package bot_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/sms"
	"ringback/store"
)

const maintNum = "+441632960002"

// outbox lists the rows of a kind written so far (any state).
func outbox(t *testing.T, s *store.Store, kind string) []store.OutboxItem {
	t.Helper()
	var items []store.OutboxItem
	if err := s.DB().Select(&items, s.DB().Rebind(`SELECT id, kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, locked_by, last_error, created_at, updated_at FROM outbox WHERE kind = ? ORDER BY id`), kind); err != nil {
		t.Fatal(err)
	}
	return items
}

func reminders(t *testing.T, s *store.Store) []bot.Entry {
	var out []bot.Entry
	for _, it := range outbox(t, s, "chat.thread.slack") {
		var e bot.Entry
		json.Unmarshal([]byte(it.Payload), &e)
		if e.Kind == bot.EntryReminder {
			out = append(out, e)
		}
	}
	return out
}

func dms(t *testing.T, s *store.Store) []bot.Notice {
	var out []bot.Notice
	for _, it := range outbox(t, s, "chat.dm.slack") {
		var n bot.Notice
		json.Unmarshal([]byte(it.Payload), &n)
		out = append(out, n)
	}
	return out
}

// firedSteps counts the case's escalation events by step.
func firedSteps(t *testing.T, s *store.Store, caseID int64) map[int]int {
	t.Helper()
	events, err := s.EventsForCase(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, e := range events {
		var d struct{ Step int }
		if e.Kind == "escalated" && json.Unmarshal([]byte(e.Data), &d) == nil {
			out[d.Step]++
		}
	}
	return out
}

func tick(t *testing.T, b *bot.Bot) {
	t.Helper()
	if err := b.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestUnclaimedCaseRemindsChannelAfterTenMinutes(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.missed(t, "CA1", callerNum)
		f.clock.Advance(10*time.Minute - time.Second)
		tick(t, f.bot)
		if n := len(reminders(t, f.store)); n != 0 {
			t.Fatalf("reminded before 10 minutes: %d", n)
		}
		f.clock.Advance(time.Second)
		tick(t, f.bot)
		tick(t, f.bot)
		r := reminders(t, f.store)
		if len(r) != 1 || r[0].Mention != "here" || !strings.Contains(r[0].Text.String(), "still unclaimed after 10 min") {
			t.Fatalf("reminders = %+v", r)
		}
		got, _ := f.store.CaseByID(context.Background(), c.ID)
		if got.EscalationLevel != 1 {
			t.Fatalf("escalation level = %d", got.EscalationLevel)
		}
		card, _ := f.bot.Card(context.Background(), c.ID)
		if card.EscalationLevel != 1 {
			t.Fatal("card does not show the escalation level")
		}
	})
}

func TestClaimBeforeTheStepCancelsIt(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.missed(t, "CA1", callerNum)
		f.clock.Advance(9 * time.Minute)
		if _, err := f.bot.Claim(context.Background(), c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Minute)
		tick(t, f.bot)
		if n := len(reminders(t, f.store)); n != 0 {
			t.Fatalf("a claimed case got an unclaimed reminder: %d", n)
		}
	})
}

func TestNoContactRemindsOwnerThenManagers(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.clock.Advance(5 * time.Minute)
		f.bot.Claim(ctx, c.ID, alice)
		f.clock.Advance(25*time.Minute - time.Second)
		tick(t, f.bot)
		if n := len(dms(t, f.store)); n != 0 {
			t.Fatalf("owner reminded before 30 minutes")
		}
		f.clock.Advance(time.Second)
		tick(t, f.bot)
		d := dms(t, f.store)
		if len(d) != 1 || d[0].User != alice.ID || !d[0].Confirm || !strings.Contains(d[0].Text.String(), "no contact with the caller yet") {
			t.Fatalf("dms at 30 min = %+v", d)
		}
		// Alice answers "Still on it": the case stays hers.
		f.clock.Advance(time.Minute)
		if _, err := f.bot.StillOnIt(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Hour)
		tick(t, f.bot)
		tick(t, f.bot) // the managers' round-up
		d = dms(t, f.store)
		if len(d) != 2 || d[1].User != "U0MANAGER1" || !strings.Contains(d[1].Text.String(), "1 case needs a manager") ||
			!strings.Contains(d[1].Text.String(), "#1 Lettings · @U0ALICE, no contact yet · 2h 31m") {
			t.Fatalf("dms at 2 h = %+v", d)
		}
		for _, it := range outbox(t, f.store, "chat.post.slack") {
			if strings.Contains(it.Payload, "C0DIGEST") {
				t.Fatalf("a digest-channel alert besides the managers' round-up: %s", it.Payload)
			}
		}
		got, _ := f.store.CaseByID(ctx, c.ID)
		if got.Owner != alice.ID || got.EscalationLevel != 3 {
			t.Fatalf("case = owner %s level %d", got.Owner, got.EscalationLevel)
		}
	})
}

func TestContactClearsNoContactSteps(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.bot.Claim(ctx, c.ID, alice)
		f.clock.Advance(20 * time.Minute)
		f.bot.LogCallback(ctx, c.ID, alice, "reached", "")
		f.clock.Advance(3 * time.Hour)
		tick(t, f.bot)
		if n := len(dms(t, f.store)); n != 0 {
			t.Fatalf("a contacted case escalated: %d dms", n)
		}
	})
}

func TestSilentOwnerLosesTheCaseAndEscalationRestarts(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.bot.Claim(ctx, c.ID, alice)
		f.clock.Advance(30 * time.Minute)
		tick(t, f.bot) // owner reminder, 15 minutes to answer
		f.clock.Advance(15 * time.Minute)
		tick(t, f.bot)
		got, _ := f.store.CaseByID(ctx, c.ID)
		if got.Owner != "" || got.State != store.CaseOpen {
			t.Fatalf("unanswered reminder: owner %q state %s, want back in the queue", got.Owner, got.State)
		}
		// Escalation restarts: 10 minutes later, unclaimed → the channel.
		before := len(reminders(t, f.store))
		f.clock.Advance(10 * time.Minute)
		tick(t, f.bot)
		r := reminders(t, f.store)
		if len(r) != before+1 || !strings.Contains(r[len(r)-1].Text.String(), "still unclaimed") {
			t.Fatalf("escalation did not restart: %+v", r)
		}
	})
}

func TestUrgentPagesAtOnce(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CAu", From: callerNum, To: maintNum, Outcome: bot.CallMissed}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SMu", From: callerNum, To: maintNum, Body: "9"}); err != nil {
			t.Fatal(err)
		}
		// The on-call phone at once, with what it needs to call back.
		var pages []store.Message
		f.store.DB().Select(&pages, f.store.DB().Rebind(`SELECT id, caller_number, body, kind FROM messages WHERE kind = ?`), "page")
		if len(pages) != 1 || pages[0].CallerNumber != "+447700900999" ||
			pages[0].Body != "Northside Lettings URGENT: #1, caller 07700 900123, Maintenance line, Urgent safety: needs a call back now. Open Slack to take it." {
			t.Fatalf("on-call page = %+v", pages)
		}
		// Managers in their round-up, the urgent case marked.
		tick(t, f.bot)
		d := dms(t, f.store)
		if len(d) != 1 || d[0].User != "U0MANAGER1" || !strings.Contains(d[0].Text.String(), "🚨 #1 Maintenance · Urgent safety") {
			t.Fatalf("managers' round-up = %+v", d)
		}
		var mentioned bool
		for _, it := range outbox(t, f.store, "chat.thread.slack") {
			var e bot.Entry
			json.Unmarshal([]byte(it.Payload), &e)
			mentioned = mentioned || (e.Kind == bot.EntryTriaged && e.Mention == "channel")
		}
		if !mentioned {
			t.Fatal("no channel mention for an urgent case")
		}
	})
}

// A leader dies between two steps; the next one sends the next step once
// and never the previous one again.
func TestNewLeaderContinuesTheSchedule(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.bot.Claim(ctx, c.ID, alice)
		f.bot.Release(ctx, c.ID, alice) // unclaimed again
		f.clock.Advance(10 * time.Minute)
		tick(t, f.bot) // the old leader fires step 1 and dies

		g := newFixture(t, f.store) // a new replica, same database
		g.clock.Set(f.clock.Now().Add(20 * time.Minute))
		tick(t, g.bot)
		tick(t, g.bot)
		// Step 1 went to the channel; step 2 (owner) has no owner to remind,
		// so it goes to the channel too: each exactly once.
		var unclaimed, noContact int
		for _, r := range reminders(t, f.store) {
			switch {
			case strings.Contains(r.Text.String(), "still unclaimed"):
				unclaimed++
			case strings.Contains(r.Text.String(), "no contact"):
				noContact++
			}
		}
		if unclaimed != 1 || noContact != 1 {
			t.Fatalf("reminders: %d unclaimed, %d no-contact; want 1 and 1", unclaimed, noContact)
		}
		d := dms(t, f.store)
		fired := firedSteps(t, f.store, c.ID)
		if fired[0] != 1 || fired[1] != 1 {
			t.Fatalf("fired steps = %v (dms %d)", fired, len(d))
		}
	})
}

func TestRotaAssignsNewCases(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		line, _ := f.bot.Config().LineByName("Lettings")
		line.Rota.RoundRobin = []string{alice.ID, bob.ID}
		a := f.missed(t, "CA1", "+447700900101")
		b := f.missed(t, "CA2", "+447700900102")
		c := f.missed(t, "CA3", "+447700900103")
		if a.Owner != alice.ID || b.Owner != bob.ID || c.Owner != alice.ID || a.AssignedBy != "rota" || a.State != store.CaseClaimed {
			t.Fatalf("round robin: %s %s %s (%s)", a.Owner, b.Owner, c.Owner, a.AssignedBy)
		}
		card, _ := f.bot.Card(context.Background(), a.ID)
		if card.AssignedBy != "rota" {
			t.Fatal("card does not say assigned by rota")
		}
	})
}

func TestQueueCheckPostsOncePerTime(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.clock.Set(time.Date(2026, 11, 17, 8, 0, 0, 0, time.UTC)) // Tue 08:00 London
		f.missed(t, "CA1", callerNum)
		tick(t, f.bot)
		if n := len(outbox(t, f.store, "chat.post.slack")); n != 0 {
			t.Fatal("queue check before 08:45")
		}
		f.clock.Set(time.Date(2026, 11, 17, 8, 46, 0, 0, time.UTC))
		tick(t, f.bot)
		tick(t, f.bot)
		posts := outbox(t, f.store, "chat.post.slack")
		var lettings []bot.Post
		for _, it := range posts {
			var p bot.Post
			json.Unmarshal([]byte(it.Payload), &p)
			if p.Channel == "C0LETTINGS" {
				lettings = append(lettings, p)
			}
		}
		if len(lettings) != 1 || !strings.Contains(lettings[0].Text.String(), "Lettings queue at 08:45: 1 open, 1 unclaimed, 0 overdue") {
			t.Fatalf("queue checks = %+v", lettings)
		}
	})
}

func TestDigestQueuedOncePerWeek(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.clock.Set(time.Date(2026, 11, 23, 7, 59, 0, 0, time.UTC)) // Mon 07:59 London
		tick(t, f.bot)
		if n := len(outbox(t, f.store, "chat.digest.slack")); n != 0 {
			t.Fatal("digest before Monday 08:00")
		}
		f.clock.Set(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
		tick(t, f.bot)
		g := newFixture(t, f.store) // another replica / a restart
		g.clock.Set(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
		tick(t, g.bot)
		d := outbox(t, f.store, "chat.digest.slack")
		if len(d) != 1 || !strings.Contains(d[0].Payload, `"label":"2026-W47"`) {
			t.Fatalf("digests = %+v", d)
		}
	})
}

// restarted is another replica on f's database, started after the config
// was edited by edit.
func restarted(t *testing.T, f *fixture, edit func(cfg *config.Config)) *fixture {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	clock := bot.NewManualClock(f.clock.Now())
	b := bot.New(bot.Deps{Store: f.store, Config: cfg, Clock: clock, Log: quiet, Texter: sms.NewTexter(sms.New(testAccount, testToken, f.twilio.URL)), Chats: []string{"slack"}})
	w := bot.NewWorker(f.store, clock, "w2", quiet)
	b.Register(w)
	return &fixture{bot: b, store: f.store, clock: clock, worker: w, twilio: f.twilio}
}

// A case keeps the escalation policy it opened with: a step put in front
// of the policy afterwards neither renumbers the steps already scheduled
// nor fires for it.
func TestConfigEditDoesNotRenumberScheduledSteps(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.clock.Advance(10 * time.Minute)
		tick(t, f.bot) // step 0: the channel hears it is unclaimed
		if r := reminders(t, f.store); len(r) != 1 || !strings.Contains(r[0].Text.String(), "still unclaimed") {
			t.Fatalf("reminders at 10 min = %+v", r)
		}
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}

		// The policy gains a first step; step 1 by position is now the
		// 10-minute channel reminder, where it was "no contact → owner".
		g := restarted(t, f, func(cfg *config.Config) {
			cfg.Escalation = append([]config.EscalationStep{{After: 5 * time.Minute, When: "unclaimed", Notify: "managers"}}, cfg.Escalation...)
		})
		g.clock.Advance(20 * time.Minute) // 30 minutes after the call
		tick(t, g.bot)
		tick(t, g.bot)
		d := dms(t, f.store)
		if len(d) != 1 || d[0].User != alice.ID || !d[0].Confirm || !strings.Contains(d[0].Text.String(), "no contact with the caller yet") {
			t.Fatalf("dms at 30 min = %+v; want the owner reminder scheduled when the case opened", d)
		}
		if r := reminders(t, f.store); len(r) != 2 || !strings.Contains(r[1].Text.String(), "reminded the owner by DM") {
			t.Fatalf("reminders at 30 min = %+v", r)
		}

		// Alice does not answer: the case goes back to the queue and its
		// escalation restarts on the policy it opened with, not the new one.
		g.clock.Advance(15 * time.Minute)
		tick(t, g.bot)
		e, err := f.store.EscalationOf(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Round != 1 || e.Step != 0 || e.StepAt == nil || e.StepAt.Sub(g.clock.Now()) != 10*time.Minute {
			t.Fatalf("restarted schedule: round %d, step %d at %v; want round 1 step 0 in 10m", e.Round, e.Step, e.StepAt)
		}
		// Then the steps it opened with, not the managers' step put first.
		g.clock.Advance(10 * time.Minute)
		tick(t, g.bot)
		if r := reminders(t, f.store); !strings.Contains(r[len(r)-1].Text.String(), "still unclaimed") {
			t.Fatalf("round 1 step 0 = %+v", r[len(r)-1])
		}
		if n := len(dms(t, f.store)); n != 1 {
			t.Fatalf("%d dms: the new managers' step fired", n)
		}
	})
}
