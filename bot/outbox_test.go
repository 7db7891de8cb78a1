package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

var (
	t0    = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func enqueue(t testing.TB, s *store.Store, clock bot.Clock, kind, key string) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		_, _, err := tx.Enqueue(context.Background(), store.NewOutbox{Kind: kind, DedupeKey: key, Payload: key, MaxAttempts: 4}, clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBackoffIsAttemptToTheFourthWithJitter(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 16 * time.Second, 3: 81 * time.Second, 5: 625 * time.Second} {
		for i := 0; i < 50; i++ {
			got := bot.Backoff(attempt)
			if got < want*9/10 || got > want*11/10 {
				t.Fatalf("Backoff(%d) = %s, want %s ±10%%", attempt, got, want)
			}
		}
	}
}

func TestWorkerRetriesWithBackoffThenDies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := bot.NewManualClock(t0)
		w := bot.NewWorker(s, clock, "w", quiet)
		var calls int
		var deadErr error
		w.Handle("flaky", func(ctx context.Context, it store.OutboxItem) error {
			calls++
			return errors.New("twilio: 503 service unavailable")
		})
		w.OnDead = func(_ context.Context, it store.OutboxItem, err error) { deadErr = err }
		enqueue(t, s, clock, "flaky", "k")

		if n, err := w.RunDue(ctx); err != nil || n != 1 || calls != 1 {
			t.Fatalf("first pass: n=%d calls=%d err=%v", n, calls, err)
		}
		it, _ := s.OutboxByKey(ctx, "k")
		if it.State != store.OutboxPending || it.LastError == "" {
			t.Fatalf("after a failure: %+v, want pending with the error kept", it)
		}
		// attempt 1 failed: the next try waits about 1 s (±10 %), no sooner.
		clock.Advance(800 * time.Millisecond)
		if n, _ := w.RunDue(ctx); n != 0 {
			t.Fatal("retried before its backoff")
		}
		clock.Advance(400 * time.Millisecond)
		if n, _ := w.RunDue(ctx); n != 1 {
			t.Fatal("not retried after its backoff")
		}
		// attempt 2 failed: about 16 s.
		clock.Advance(14 * time.Second)
		if n, _ := w.RunDue(ctx); n != 0 {
			t.Fatal("second retry came too early")
		}
		clock.Advance(4 * time.Second)
		w.RunDue(ctx)
		clock.Advance(90 * time.Second)
		w.RunDue(ctx)
		if calls != 4 {
			t.Fatalf("calls = %d, want 4 (max attempts)", calls)
		}
		it, _ = s.OutboxByKey(ctx, "k")
		if it.State != store.OutboxDead || deadErr == nil {
			t.Fatalf("after max attempts: state %s, OnDead err %v; want dead and told", it.State, deadErr)
		}
		clock.Advance(24 * time.Hour)
		if n, _ := w.RunDue(ctx); n != 0 || calls != 4 {
			t.Fatal("a dead row ran again")
		}
	})
}

func TestWorkerHonoursRetryAfter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := bot.NewManualClock(t0)
		w := bot.NewWorker(s, clock, "w", quiet)
		var calls int
		w.Handle("slack.post", func(ctx context.Context, it store.OutboxItem) error {
			calls++
			if calls == 1 {
				return bot.RetryAfter(30*time.Second, errors.New("slack: 429 ratelimited"))
			}
			return nil
		})
		enqueue(t, s, clock, "slack.post", "card:1")
		w.RunDue(ctx)
		clock.Advance(29 * time.Second)
		if n, _ := w.RunDue(ctx); n != 0 {
			t.Fatal("retried before Retry-After")
		}
		clock.Advance(time.Second)
		if n, _ := w.RunDue(ctx); n != 1 {
			t.Fatal("not retried at Retry-After")
		}
		it, _ := s.OutboxByKey(ctx, "card:1")
		if it.State != store.OutboxDone {
			t.Fatalf("state %s, want done", it.State)
		}
	})
}

func TestWorkerPermanentErrorAndUnknownKindGoDead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := bot.NewManualClock(t0)
		w := bot.NewWorker(s, clock, "w", quiet)
		w.Handle("sms.send", func(ctx context.Context, it store.OutboxItem) error {
			return bot.Permanent(errors.New("twilio: 21211 invalid To number"))
		})
		enqueue(t, s, clock, "sms.send", "a")
		enqueue(t, s, clock, "no.such.kind", "b")
		w.RunDue(ctx)
		for _, k := range []string{"a", "b"} {
			it, _ := s.OutboxByKey(ctx, k)
			if it.State != store.OutboxDead || it.Attempts != 1 {
				t.Errorf("%s: %s after %d attempts, want dead after 1", k, it.State, it.Attempts)
			}
		}
	})
}

// Run wakes on a commit, not on its poll: with the poll far away, a row is
// still performed at once.
func TestWorkerRunStartsCommittedRowPromptly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		got := make(chan string, 10)
		w.Handle("k", func(ctx context.Context, it store.OutboxItem) error {
			var key string
			it.Decode(&key)
			got <- key
			return nil
		})
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		time.Sleep(50 * time.Millisecond) // let it block on its wait
		enqueue(t, s, bot.SystemClock{}, "k", "first")
		select {
		case k := <-got:
			if k != "first" {
				t.Fatalf("performed %q", k)
			}
		case <-time.After(1500 * time.Millisecond):
			t.Fatal("a committed row was not started before the safety-net poll")
		}
		cancel()
		<-done
	})
}

// Two workers (two replicas) share the outbox: every row is performed
// exactly once.
func TestTwoWorkersPerformEachRowOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		const n = 150
		var mu sync.Mutex
		seen := map[string]int{}
		var total atomic.Int64
		perform := func(ctx context.Context, it store.OutboxItem) error {
			mu.Lock()
			seen[it.DedupeKey]++
			mu.Unlock()
			total.Add(1)
			return nil
		}
		var wg sync.WaitGroup
		for _, id := range []string{"replica-a", "replica-b"} {
			w := bot.NewWorker(s, bot.SystemClock{}, id, quiet)
			w.SetConcurrency(4)
			w.Handle("k", perform)
			wg.Add(1)
			go func() { defer wg.Done(); w.Run(ctx) }()
		}
		for i := 0; i < n; i++ {
			enqueue(t, s, bot.SystemClock{}, "k", fmt.Sprintf("row-%d", i))
		}
		deadline := time.Now().Add(20 * time.Second)
		for total.Load() < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // a duplicate would show up now
		cancel()
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d distinct rows performed, want %d", len(seen), n)
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("%s performed %d times", k, c)
			}
		}
	})
}
