package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

var t0 = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

func enqueue(t *testing.T, s *store.Store, key string, runAt time.Time) int64 {
	t.Helper()
	var id int64
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		id, _, err = tx.Enqueue(context.Background(), store.NewOutbox{Kind: "test", DedupeKey: key, Payload: map[string]string{"k": key}, RunAt: runAt}, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestOutboxDedupeKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id, ok, err := s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "textback:1", Payload: map[string]int{"case": 1}}, t0)
		if err != nil || !ok || id == 0 {
			t.Fatalf("first enqueue: id=%d ok=%v err=%v", id, ok, err)
		}
		_, ok, err = s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "textback:1", Payload: map[string]int{"case": 1}}, t0)
		if err != nil || ok {
			t.Fatalf("second enqueue with the same key: ok=%v err=%v, want dropped", ok, err)
		}
		counts, err := s.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.OutboxPending] != 1 {
			t.Fatalf("pending rows = %d, want 1", counts[store.OutboxPending])
		}
		it, err := s.OutboxByKey(ctx, "textback:1")
		if err != nil {
			t.Fatal(err)
		}
		if string(it.Payload) != `{"case":1}` || it.Kind != "sms.send" || it.MaxAttempts != store.DefaultMaxAttempts {
			t.Fatalf("row = %+v", it)
		}
	})
}

func TestOutboxRolledBackTxLeavesNoRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: "k", DedupeKey: "x", Payload: 1}, t0); err != nil {
				return err
			}
			return fmt.Errorf("business change failed")
		})
		if err == nil {
			t.Fatal("want the tx error back")
		}
		if _, err := s.OutboxByKey(ctx, "x"); err == nil {
			t.Fatal("a row of a rolled-back transaction was kept")
		}
	})
}

func TestOutboxClaimDueOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "now", t0)
		enqueue(t, s, "later", t0.Add(time.Minute))
		got, err := s.ClaimOutbox(ctx, "w1", t0, 30*time.Second, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].DedupeKey != "now" || got[0].Attempts != 1 || got[0].State != store.OutboxRunning {
			t.Fatalf("claimed %+v, want only the due row, attempt 1, running", got)
		}
		// Claimed rows are hidden from the next claim while the claim lasts.
		again, err := s.ClaimOutbox(ctx, "w2", t0.Add(10*time.Second), 30*time.Second, 10)
		if err != nil || len(again) != 0 {
			t.Fatalf("second claim = %v, %v; want nothing", again, err)
		}
		// A worker that died loses its claim when it expires.
		late, err := s.ClaimOutbox(ctx, "w2", t0.Add(31*time.Second), 30*time.Second, 10)
		if err != nil || len(late) != 1 || late[0].DedupeKey != "now" || late[0].Attempts != 2 {
			t.Fatalf("claim after expiry = %+v, %v; want the abandoned row, attempt 2", late, err)
		}
		// The dead worker's late completion must not count.
		if err := s.CompleteOutbox(ctx, late[0].ID, "w1", t0.Add(32*time.Second)); err != nil {
			t.Fatal(err)
		}
		it, _ := s.OutboxByKey(ctx, "now")
		if it.State != store.OutboxRunning || it.LockedBy != "w2" {
			t.Fatalf("after a stale worker's completion: %s by %s, want running by w2", it.State, it.LockedBy)
		}
	})
}

func TestOutboxRetryAndDead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := enqueue(t, s, "flaky", t0)
		got, _ := s.ClaimOutbox(ctx, "w", t0, time.Minute, 1)
		if len(got) != 1 {
			t.Fatal("not claimed")
		}
		if err := s.RetryOutbox(ctx, id, "w", t0.Add(16*time.Second), t0, "twilio: 503"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ClaimOutbox(ctx, "w", t0.Add(15*time.Second), time.Minute, 1); len(got) != 0 {
			t.Fatal("claimed before its retry time")
		}
		next, err := s.NextOutboxRun(ctx)
		if err != nil || !next.Equal(t0.Add(16*time.Second)) {
			t.Fatalf("next run = %v, %v", next, err)
		}
		got, _ = s.ClaimOutbox(ctx, "w", t0.Add(16*time.Second), time.Minute, 1)
		if len(got) != 1 || got[0].LastError != "twilio: 503" || got[0].Attempts != 2 {
			t.Fatalf("retry claim = %+v", got)
		}
		if err := s.KillOutbox(ctx, id, "w", t0.Add(17*time.Second), "twilio: 21211 invalid To"); err != nil {
			t.Fatal(err)
		}
		dead, err := s.OutboxByState(ctx, store.OutboxDead, 10)
		if err != nil || len(dead) != 1 || dead[0].LastError != "twilio: 21211 invalid To" {
			t.Fatalf("dead rows = %+v, %v", dead, err)
		}
		if got, _ := s.ClaimOutbox(ctx, "w", t0.Add(24*time.Hour), time.Minute, 10); len(got) != 0 {
			t.Fatal("a dead row was claimed again")
		}
	})
}

// Two workers claiming at once never get the same row, and every row is
// handed out exactly once.
func TestOutboxConcurrentClaimsNeverOverlap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const n = 200
		for i := 0; i < n; i++ {
			enqueue(t, s, fmt.Sprintf("row-%d", i), t0)
		}
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		for _, w := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					items, err := s.ClaimOutbox(ctx, w, t0, time.Hour, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(items) == 0 {
						return
					}
					for _, it := range items {
						mu.Lock()
						if prev, dup := seen[it.ID]; dup {
							t.Errorf("row %d claimed by %s and %s", it.ID, prev, w)
						}
						seen[it.ID] = w
						mu.Unlock()
						if err := s.CompleteOutbox(ctx, it.ID, w, t0); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d rows claimed, want %d", len(seen), n)
		}
		counts, _ := s.OutboxCounts(ctx)
		if counts[store.OutboxDone] != n {
			t.Fatalf("done = %d, want %d", counts[store.OutboxDone], n)
		}
	})
}

func TestOutboxSignalAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		sig := s.OutboxSignal()
		// Drain a wake-up left by earlier work.
		select {
		case <-sig:
		default:
		}
		enqueue(t, s, "wake", t0)
		select {
		case <-sig:
		case <-time.After(5 * time.Second):
			t.Fatal("no signal after a commit that enqueued work")
		}
	})
}

// A case's thread entries are claimed one at a time, in order; other cases
// and other kinds are not held up.
func TestOutboxThreadEntriesInOrderPerCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		add := func(kind, key string, caseID int64) {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: key, Payload: key, CaseID: caseID}, t0); err != nil {
				t.Fatal(err)
			}
		}
		add("chat.thread.slack", "a1", 1)
		add("chat.thread.slack", "a2", 1)
		add("chat.thread.slack", "b1", 2)
		add("chat.card.slack", "a-card", 1)
		add("chat.card.slack", "a-card-2", 1)
		got, err := s.ClaimOutbox(ctx, "w", t0, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]bool{}
		for _, it := range got {
			keys[it.DedupeKey] = true
		}
		if len(got) != 3 || !keys["a1"] || !keys["b1"] || !keys["a-card"] || keys["a2"] || keys["a-card-2"] {
			t.Fatalf("claimed %v, want a1, b1 and the first card refresh, not a2 or the second refresh", keys)
		}
		if more, _ := s.ClaimOutbox(ctx, "w", t0, time.Minute, 10); len(more) != 0 {
			t.Fatal("a2 claimed while a1 runs")
		}
		for _, it := range got {
			if it.DedupeKey == "a1" || it.DedupeKey == "a-card" {
				s.CompleteOutbox(ctx, it.ID, "w", t0)
			}
		}
		more, _ := s.ClaimOutbox(ctx, "w", t0, time.Minute, 10)
		if len(more) != 2 || more[0].DedupeKey != "a2" || more[1].DedupeKey != "a-card-2" {
			t.Fatalf("after a1 and the first refresh: %+v", more)
		}
	})
}
