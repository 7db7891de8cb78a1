package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
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

// manualWorker is an outbox worker on s whose clock stands at t0 until
// advanced.
func manualWorker(s *store.Store) (*bot.ManualClock, *bot.Worker) {
	clock := bot.NewManualClock(t0)
	return clock, bot.NewWorker(s, clock, "w", quiet)
}

// within is the first value on ch; the test fails with failure when none
// comes within d.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, failure string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatal(failure)
	}
	var zero T
	return zero
}

// perform has w perform kind with fn, told which call it is (from 1); the
// count of calls so far is returned.
func perform(w *bot.Worker, kind string, fn func(call int) error) *int {
	var calls int
	w.Handle(kind, func(context.Context, store.OutboxItem) error {
		calls++
		return fn(calls)
	})
	return &calls
}

// soonAfter waits up to wait for when something happened (on ch) and fails
// the test unless that was within want of since.
func soonAfter(t *testing.T, ch <-chan time.Time, since time.Time, want, wait time.Duration, what string) {
	t.Helper()
	if d := within(t, ch, wait, what+": not within "+wait.String()).Sub(since); d > want {
		t.Fatalf("%s %s after, want within %s", what, d, want)
	}
}

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

func TestBackoffIsAttemptToTheFourthWithJitterCapped(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 16 * time.Second, 3: 81 * time.Second, 5: 2 * time.Minute, 9: 2 * time.Minute} {
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
		clock, w := manualWorker(s)
		var deadErr error
		calls := perform(w, "flaky", func(call int) error {
			return errors.New("twilio: 503 service unavailable")
		})
		w.OnDead = func(_ context.Context, it store.OutboxItem, err error) { deadErr = err }
		enqueue(t, s, clock, "flaky", "k")

		if n, err := w.RunDue(ctx); err != nil || n != 1 || *calls != 1 {
			t.Fatalf("first pass: n=%d calls=%d err=%v", n, *calls, err)
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
		if *calls != 4 {
			t.Fatalf("calls = %d, want 4 (max attempts)", *calls)
		}
		it, _ = s.OutboxByKey(ctx, "k")
		if it.State != store.OutboxDead || deadErr == nil {
			t.Fatalf("after max attempts: state %s, OnDead err %v; want dead and told", it.State, deadErr)
		}
		clock.Advance(24 * time.Hour)
		if n, _ := w.RunDue(ctx); n != 0 || *calls != 4 {
			t.Fatal("a dead row ran again")
		}
	})
}

func TestWorkerHonoursRetryAfter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock, w := manualWorker(s)
		perform(w, "slack.post", func(call int) error {
			if call == 1 {
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
		clock, w := manualWorker(s)
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
		if k := within(t, got, 1500*time.Millisecond, "a committed row was not started before the safety-net poll"); k != "first" {
			t.Fatalf("performed %q", k)
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

// A row whose worker is still performing it is not taken over when the bot's
// clock jumps (the demo moves it by hours): claims last on the database's
// clock.
func TestWorkerClaimSurvivesJumpedClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := bot.NewManualClock(t0)
		var calls atomic.Int32
		started, release := make(chan struct{}), make(chan struct{})
		perform := func(ctx context.Context, it store.OutboxItem) error {
			if calls.Add(1) == 1 {
				close(started)
				<-release
			}
			return nil
		}
		a := bot.NewWorker(s, clock, "replica-a", quiet)
		b := bot.NewWorker(s, clock, "replica-b", quiet)
		a.Handle("chat.post.slack", perform)
		b.Handle("chat.post.slack", perform)
		enqueue(t, s, clock, "chat.post.slack", "post:1")
		done := make(chan struct{})
		go func() { defer close(done); a.RunDue(ctx) }()
		<-started
		clock.Advance(time.Hour)
		n, err := b.RunDue(ctx)
		close(release)
		<-done
		if err != nil || n != 0 || calls.Load() != 1 {
			t.Fatalf("after the clock jumped an hour: the other replica performed %d rows (err %v), calls %d; want the running row left alone", n, err, calls.Load())
		}
		if it, _ := s.OutboxByKey(ctx, "post:1"); it.State != store.OutboxDone {
			t.Fatalf("state %s, want done by its first worker", it.State)
		}
	})
}

// A replica that dies holding a row (SIGKILL: no mark, no heartbeat any
// more) leaves it to the others within seconds, not minutes.
func TestWorkerDeadReplicasRowRunsAgainWithinSeconds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var calls atomic.Int32
		rerun := make(chan time.Time, 1)
		perform := func(ctx context.Context, it store.OutboxItem) error {
			if calls.Add(1) == 1 {
				runtime.Goexit() // the replica dies mid-row
			}
			rerun <- time.Now()
			return nil
		}
		a := bot.NewWorker(s, bot.SystemClock{}, "replica-a", quiet)
		b := bot.NewWorker(s, bot.SystemClock{}, "replica-b", quiet)
		a.Handle(bot.KindSMS, perform)
		b.Handle(bot.KindSMS, perform)
		enqueue(t, s, bot.SystemClock{}, bot.KindSMS, "textback:1")
		claimed := time.Now()
		died := make(chan struct{})
		go func() { defer close(died); a.RunDue(ctx) }()
		<-died
		stopped := make(chan struct{})
		go func() { defer close(stopped); b.Run(ctx) }()
		defer func() { cancel(); <-stopped }()
		soonAfter(t, rerun, claimed, 15*time.Second, 20*time.Second, "the dead replica's text-back ran again")
	})
}

// Waiting is not failing: a row told to wait by the remote again and again
// (429 with Retry-After) for 20 s spends no attempts and is sent at the end.
func TestWorkerRetryAfterSpendsNoAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock, w := manualWorker(s)
		perform(w, "chat.card.slack", func(call int) error {
			if call <= 20 {
				return bot.RetryAfter(time.Second, errors.New("slack: 429 ratelimited"))
			}
			return nil
		})
		enqueue(t, s, clock, "chat.card.slack", "card:1") // 4 attempts at most
		for i := 0; i < 21; i++ {
			if n, err := w.RunDue(ctx); n != 1 || err != nil {
				t.Fatalf("pass %d: performed %d (err %v), want the row", i, n, err)
			}
			clock.Advance(time.Second)
		}
		it, _ := s.OutboxByKey(ctx, "card:1")
		if it.State != store.OutboxDone || it.Attempts != 1 {
			t.Fatalf("after 20 s of Retry-After: %s after %d attempts, want done after 1", it.State, it.Attempts)
		}
	})
}

// A row whose side effect was performed is marked done even when the
// database fails the first tries: an unmarked row would run, and text the
// caller, a second time.
func TestWorkerRetriesMarkingDone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		db := s.DB()
		ddl := []string{`CREATE TABLE fail_done (n INTEGER)`}
		if s.Dialect() == "postgres" {
			ddl = append(ddl, `CREATE FUNCTION fail_done() RETURNS trigger AS $$ BEGIN
					IF EXISTS (SELECT 1 FROM fail_done) THEN RAISE EXCEPTION 'injected: database hiccup'; END IF;
					RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER fail_done BEFORE UPDATE ON outbox FOR EACH ROW WHEN (NEW.state = 'done') EXECUTE FUNCTION fail_done()`)
		} else {
			ddl = append(ddl, `CREATE TRIGGER fail_done BEFORE UPDATE ON outbox
				WHEN NEW.state = 'done' AND EXISTS (SELECT 1 FROM fail_done)
				BEGIN SELECT RAISE(ABORT, 'injected: database hiccup'); END`)
		}
		for _, q := range ddl {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		clock, w := manualWorker(s)
		calls := perform(w, bot.KindSMS, func(call int) error {
			// The text went out; the database fails for a moment right after.
			if _, err := db.Exec(`INSERT INTO fail_done (n) VALUES (1)`); err != nil {
				return err
			}
			time.AfterFunc(300*time.Millisecond, func() { db.Exec(`DELETE FROM fail_done`) })
			return nil
		})
		enqueue(t, s, clock, bot.KindSMS, "textback:1")
		if n, err := w.RunDue(ctx); n != 1 || err != nil {
			t.Fatalf("performed %d, err %v", n, err)
		}
		if it, _ := s.OutboxByKey(ctx, "textback:1"); it.State != store.OutboxDone || *calls != 1 {
			t.Fatalf("after a failed first mark: %s, performed %d times; want done, once", it.State, *calls)
		}
	})
}

// Text-backs never wait behind chat: with every chat call hung, a text is
// still sent at once.
func TestWorkerSlowChatDoesNotDelayTexts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		hung := make(chan struct{})
		sent := make(chan time.Time, 1)
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		w.Handle("chat.post.slack", func(ctx context.Context, it store.OutboxItem) error {
			<-hung
			return nil
		})
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			sent <- time.Now()
			return nil
		})
		for i := 0; i < 64; i++ {
			enqueue(t, s, bot.SystemClock{}, "chat.post.slack", fmt.Sprintf("post:%d", i))
		}
		stopped := make(chan struct{})
		go func() { defer close(stopped); w.Run(ctx) }()
		defer func() { close(hung); cancel(); <-stopped }()
		time.Sleep(200 * time.Millisecond) // the chat rows take their slots
		enqueue(t, s, bot.SystemClock{}, bot.KindSMS, "textback:1")
		queued := time.Now()
		soonAfter(t, sent, queued, 2*time.Second, 5*time.Second, "the text-back was sent, behind hung chat calls,")
	})
}

// A failing card render holds its case's later renders: its retries come
// back within seconds, not after minutes of attempt⁴ backoff.
func TestWorkerOrderedRowRetriesSoon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock, w := manualWorker(s)
		perform(w, "chat.card.slack", func(call int) error {
			return errors.New("slack: 500 internal error")
		})
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "card:1", Payload: 1, CaseID: 1}, t0); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 6; i++ {
			if n, _ := w.RunDue(ctx); n != 1 {
				t.Fatalf("attempt %d not made %s after the last one", i, 22*time.Second)
			}
			clock.Advance(22 * time.Second)
		}
	})
}

// A text whose send failed (Twilio 503) is tried again within seconds each
// time, so it goes out soon after a short outage ends.
func TestWorkerTextRetriesSoon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock, w := manualWorker(s)
		calls := perform(w, bot.KindSMS, func(call int) error {
			if call < 4 {
				return errors.New("twilio: 503 service unavailable")
			}
			return nil
		})
		enqueue(t, s, clock, bot.KindSMS, "textback:1")
		// Attempts at 0 s, then after about 1 s, 2 s and 3 s: 6 s in all.
		for _, wait := range []time.Duration{0, 1100 * time.Millisecond, 2200 * time.Millisecond, 3300 * time.Millisecond} {
			clock.Advance(wait)
			if n, _ := w.RunDue(ctx); n != 1 {
				t.Fatalf("attempt %d not made %s after the one before", *calls+1, wait)
			}
		}
		if it, _ := s.OutboxByKey(ctx, "textback:1"); it.State != store.OutboxDone {
			t.Fatalf("state %s, want done", it.State)
		}
	})
}

// Texts retry seconds apart at first, so they get more attempts than other
// rows: a Twilio outage of twenty minutes must not leave a text-back dead.
func TestTextsOutlastALongOutage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, kind := range []string{bot.KindSMS, bot.KindCard + ".slack"} {
				if _, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: kind, Payload: 1}, t0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var span time.Duration
		for a := 1; a < store.SMSMaxAttempts; a++ {
			span += bot.RetryIn(store.OutboxItem{Lane: store.LaneSMS, Kind: bot.KindSMS, Attempts: a, CreatedAt: t0}, t0.Add(span))
		}
		if span < 20*time.Minute {
			t.Errorf("a text's attempts span %s, want ≥ 20 min", span)
		}
		// However many attempts crashed replicas spent, a text of twenty
		// seconds retries within about two seconds.
		if d := bot.RetryIn(store.OutboxItem{Lane: store.LaneSMS, Kind: bot.KindSMS, Attempts: 9, CreatedAt: t0}, t0.Add(20*time.Second)); d > 2200*time.Millisecond {
			t.Errorf("a 20 s old text on its 9th attempt retries in %s, want ≤ 2.2 s", d)
		}
		text, _ := s.OutboxByKey(ctx, bot.KindSMS)
		card, _ := s.OutboxByKey(ctx, bot.KindCard+".slack")
		if text.MaxAttempts != store.SMSMaxAttempts || card.MaxAttempts != store.DefaultMaxAttempts {
			t.Errorf("max attempts: text %d, card %d", text.MaxAttempts, card.MaxAttempts)
		}
	})
}

// A row that runs longer than its lease keeps its claim: its worker's
// heartbeats move the lease on, so another running worker never takes it
// over and it runs once. Taken from under it (another claim of the row),
// the row's context ends with the loss at the next heartbeat, so that its
// side effect stops before it may run twice.
func TestWorkerHeartbeatsKeepALongRowsClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const lease = 900 * time.Millisecond
		var runs atomic.Int32
		finish := make(chan struct{})
		ended := make(chan error, 2)
		perform := func(ctx context.Context, it store.OutboxItem) error {
			runs.Add(1)
			done := finish
			if it.DedupeKey == "textback:lost" {
				done = nil // only its context's end ends it
			}
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				ended <- context.Cause(ctx)
				return context.Cause(ctx)
			}
		}
		for _, id := range []string{"replica-a", "replica-b"} {
			w := bot.NewWorker(s, bot.SystemClock{}, id, quiet)
			w.SetLease(lease)
			w.Handle(bot.KindSMS, perform)
			runningWorker(t, w)
		}
		enqueue(t, s, bot.SystemClock{}, bot.KindSMS, "textback:long")
		time.Sleep(4 * lease)
		if n := runs.Load(); n != 1 {
			t.Fatalf("after 4 leases the row ran %d times, want once (kept by heartbeats)", n)
		}
		close(finish)
		deadline := time.Now().Add(5 * time.Second)
		for {
			it, err := s.OutboxByKey(context.Background(), "textback:long")
			if err == nil && it.State == store.OutboxDone {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("row %+v (err %v), want done", it, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("the row ran %d times, want once", n)
		}

		runs.Store(0)
		enqueue(t, s, bot.SystemClock{}, bot.KindSMS, "textback:lost")
		for runs.Load() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := s.DB().Exec(s.DB().Rebind(`UPDATE outbox SET claim_seq = claim_seq + 1, locked_by = 'elsewhere' WHERE dedupe_key = ?`), "textback:lost"); err != nil {
			t.Fatal(err)
		}
		cause := within(t, ended, 2*lease, "the row's context went on after its claim was taken")
		if cause == nil || !strings.Contains(cause.Error(), "claimed by another worker") {
			t.Fatalf("the row's context ended with %v, want the claim's loss", cause)
		}
	})
}
