package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	rbslack "ringback/bot/slack"
	"ringback/store"
	"ringback/store/storetest"
)

// noise is what a replayed busy day sends to managers and mentions.
type noise struct {
	managerMessages int            // DMs to managers and posts in the digest channel
	perInterval     map[string]int // of those, by 30-minute interval
	selfMentions    int            // thread entries that mention the person who acted
	escalationPosts int            // thread messages about escalation (an entry edited in place is one)
	entries         int            // thread rows in all
}

// replayQuietly plays the demo's busy day (a fixed seed) straight into a
// bot on a manual clock, with staff claiming about half the cases and
// logging callbacks on some, ticking the timers every minute until 23:00,
// and measures the noise in what it queued for Slack.
func replayQuietly(t *testing.T, s *store.Store, seed uint64) noise {
	t.Helper()
	ctx := context.Background()
	cfg := exampleConfig(t)
	loc := cfg.Business.Timezone
	day := time.Date(2026, 11, 16, 0, 0, 0, 0, loc) // a Monday
	clock := bot.NewManualClock(day.Add(8 * time.Hour))
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Chats: []string{"slack"}})
	if err := b.SyncTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	steps := planBusyDay(day, cfg, rng)
	staff := []bot.Actor{{ID: "U0ALICE", Name: "Alice Jones", Staff: true}, {ID: "U0BOB", Name: "Bob Brown", Staff: true}}
	type act struct {
		at   time.Time
		do   func()
		desc string
	}
	var acts []act
	for i, st := range steps {
		st, sid := st, "CAbusy"+strings.Repeat("0", 4)+string(rune('a'+i%26))+time.Duration(i).String()
		acts = append(acts, act{at: st.At, desc: st.Kind, do: func() {
			switch st.Kind {
			case "call":
				outcome := bot.CallMissed
				if st.Status == "completed" {
					outcome = bot.CallAnswered
				}
				res, err := b.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: sid, From: st.From, To: st.Line, Status: st.Status, Outcome: outcome, StartedAt: st.At, Duration: st.Duration})
				if err != nil {
					t.Fatal(err)
				}
				if !res.NewCase || rng.Float64() < 0.5 {
					return
				}
				who, id := staff[rng.IntN(2)], res.CaseID
				claimAt := st.At.Add(time.Duration(5+rng.IntN(40)) * time.Minute)
				acts = append(acts, act{at: claimAt, desc: "claim", do: func() { _, _ = b.Claim(ctx, id, who) }})
				if rng.Float64() < 0.7 {
					acts = append(acts, act{at: claimAt.Add(20 * time.Minute), desc: "log", do: func() { _, _ = b.LogCallback(ctx, id, who, "reached", "") }})
				}
			case "sms":
				if _, err := b.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM" + sid, From: st.From, To: st.Line, Body: st.Body}); err != nil {
					t.Fatal(err)
				}
			}
		}})
	}
	end := day.Add(23 * time.Hour)
	for clock.Now().Before(end) {
		sort.SliceStable(acts, func(i, j int) bool { return acts[i].at.Before(acts[j].at) })
		next := clock.Now().Add(time.Minute)
		for len(acts) > 0 && acts[0].at.Before(next) {
			a := acts[0]
			acts = acts[1:]
			if a.at.After(clock.Now()) {
				clock.Set(a.at)
			}
			a.do()
			sort.SliceStable(acts, func(i, j int) bool { return acts[i].at.Before(acts[j].at) })
		}
		clock.Set(next)
		if err := b.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}

	n := noise{perInterval: map[string]int{}}
	var rows []store.OutboxItem
	if err := s.DB().Select(&rows, `SELECT id, kind, dedupe_key, payload, case_id, state, attempts, max_attempts, run_at, locked_by, last_error, created_at, updated_at FROM outbox ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	managers := map[string]bool{}
	for _, m := range cfg.Managers {
		managers[m] = true
	}
	for _, it := range rows {
		toManager := false
		switch it.Kind {
		case "chat.dm.slack":
			var no bot.Notice
			json.Unmarshal([]byte(it.Payload), &no)
			toManager = managers[no.User]
		case "chat.post.slack":
			var p bot.Post
			json.Unmarshal([]byte(it.Payload), &p)
			toManager = p.Channel == cfg.Digest.Channel
		case "chat.thread.slack":
			var e bot.Entry
			json.Unmarshal([]byte(it.Payload), &e)
			n.entries++
			if e.Actor != "" && strings.Contains(rbslack.EntryText(e), "<@"+e.Actor+">") {
				n.selfMentions++
			}
			if e.Kind == bot.EntryReminder && (e.Key == "" || !keys[e.Key]) {
				n.escalationPosts++
				keys[e.Key] = e.Key != ""
			}
		}
		if toManager {
			n.managerMessages++
			n.perInterval[it.CreatedAt.In(loc).Truncate(30*time.Minute).Format("15:04")]++
		}
	}
	return n
}

// A busy day is quiet: at most one message to managers per interval, and
// nobody is mentioned for their own action.
func TestBusyDayIsQuiet(t *testing.T) {
	s := storetest.New(t, "sqlite")
	n := replayQuietly(t, s, 7)
	t.Logf("busy day (seed 7): %d manager messages %v, %d self-mentions, %d escalation thread posts, %d thread rows",
		n.managerMessages, n.perInterval, n.selfMentions, n.escalationPosts, n.entries)
	for slot, k := range n.perInterval {
		if k > 1 {
			t.Errorf("%d manager messages in the interval from %s", k, slot)
		}
	}
	if n.selfMentions != 0 {
		t.Errorf("%d thread entries mention the person who acted", n.selfMentions)
	}
}
