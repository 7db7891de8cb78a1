package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
	"ringback/store/storetest"
)

// Twenty callers each ring both lines at the same instant: each gets exactly
// one text-back (the cooldown spans lines), however the two calls race.
func TestTextBackOncePerCallerAcrossLinesUnderConcurrentCalls(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		const callers = 20
		start := make(chan struct{})
		errs := make(chan error, 2*callers)
		var wg sync.WaitGroup
		for i := 0; i < callers; i++ {
			from := fmt.Sprintf("+4477009002%02d", i)
			for j, to := range []string{lettingsNum, "+441632960002"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := f.bot.ReportCall(ctx, bot.CallReport{
						Provider: "twilio", SID: fmt.Sprintf("CA%02d%d", i, j), From: from, To: to, Outcome: bot.CallMissed, Status: "no-answer",
					})
					errs <- err
				}()
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		texts := map[string]int{}
		for _, m := range f.twilio.Messages() {
			texts[m.To]++
		}
		if len(texts) != callers {
			t.Fatalf("%d callers texted, want %d", len(texts), callers)
		}
		for to, n := range texts {
			if n != 1 {
				t.Errorf("%s got %d text-backs, want 1", to, n)
			}
		}
	})
}

// A new case's first card waits (a second at most) for its text-back only
// when the text can go now: with no SMS provider configured the card is due
// at once; with one, it is held for the text's outcome.
func TestFirstCardHeldOnlyForATextBackThatCanGo(t *testing.T) {
	cardDue := func(t *testing.T, s *store.Store) time.Time {
		t.Helper()
		rows, err := s.OutboxByState(context.Background(), store.OutboxPending, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range rows {
			if it.Kind == bot.KindCard+".slack" {
				return it.RunAt
			}
		}
		t.Fatalf("no card row among %d pending rows", len(rows))
		return time.Time{}
	}
	report := func() bot.CallReport {
		return bot.CallReport{Provider: "twilio", SID: "CAhold", From: "+447700900123", To: lettingsNum, Outcome: bot.CallMissed, Status: "no-answer"}
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		clock := bot.NewManualClock(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC))
		b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: quiet, Chats: []string{"slack"}})
		if err := b.SyncTemplates(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := b.ReportCall(context.Background(), report()); err != nil {
			t.Fatal(err)
		}
		if due := cardDue(t, s); !due.Equal(clock.Now()) {
			t.Errorf("no SMS provider: the card is due %s, want at once (%s)", due, clock.Now())
		}
	})
	each(t, func(t *testing.T, f *fixture) {
		if _, err := f.bot.ReportCall(context.Background(), report()); err != nil {
			t.Fatal(err)
		}
		if due, now := cardDue(t, f.store), f.clock.Now(); !due.After(now) || due.After(now.Add(time.Second)) {
			t.Errorf("with Twilio: the card is due %s, want held for its text-back, at most a second after %s", due, now)
		}
	})
}
