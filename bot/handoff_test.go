package bot_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// runningWorker runs w until the test ends, and returns once it takes
// handed rows.
func runningWorker(t *testing.T, w *bot.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	slotFree(t, w)
}

// slotFree returns once w has a free slot for a handed text row.
func slotFree(t *testing.T, w *bot.Worker) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if h := w.Handoff(store.LaneSMS, nil); h != nil {
			h.Cancel()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the running worker takes no handed row")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// handOver writes a text row due now in a transaction, handed to w; fail
// makes the transaction roll back after the row is queued.
func handOver(s *store.Store, w *bot.Worker, key string, fail error, prepare func(*store.OutboxItem)) (handed bool, err error) {
	err = s.InTx(context.Background(), func(tx *store.Tx) error {
		h := w.Handoff(store.LaneSMS, prepare)
		handed = h != nil
		if err := tx.EnqueueLater(store.NewOutbox{Kind: bot.KindSMS, DedupeKey: key, Payload: key, Handoff: h}, time.Now()); err != nil {
			return err
		}
		return fail
	})
	return handed, err
}

// A text due now, handed to the running worker as its transaction writes
// it, runs as soon as the transaction commits, once, with no claim
// statement: the row is written claimed (its first attempt, claim 1) and
// is marked done as a claimed row is.
func TestHandedRowRunsWithoutAClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		ran := make(chan store.OutboxItem, 4)
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			ran <- it
			return nil
		})
		runningWorker(t, w)
		counter := s.CountStatements()
		defer s.StopCounting()
		prepared := false
		handed, err := handOver(s, w, "textback:1", nil, func(it *store.OutboxItem) { prepared = it.DedupeKey == "textback:1" })
		if err != nil || !handed {
			t.Fatalf("handed %v, err %v", handed, err)
		}
		it := within(t, ran, 5*time.Second, "the handed row did not run")
		if it.ID == 0 || it.Attempts != 1 || it.ClaimSeq != 1 || it.LockedBy != "w" || it.State != store.OutboxRunning || !prepared {
			t.Fatalf("ran %+v (prepared %v), want the written row, claimed by w: attempt 1, claim 1", it, prepared)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			row, err := s.OutboxByKey(context.Background(), "textback:1")
			if err != nil {
				t.Fatal(err)
			}
			if row.State == store.OutboxDone {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the handed row is %s, want done", row.State)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // a second run would come by now
		if n := len(ran); n != 0 {
			t.Fatalf("the row ran %d times more", n)
		}
		if n := counter.Total("claim_seq = claim_seq + 1"); n != 0 {
			t.Errorf("%d claim statements for a handed row, want none:\n%v", n, counter.Sequence())
		}
	})
}

// A handed row whose transaction rolls back is not run, and gives its slot
// back: a pool of one slot takes the next row.
func TestHandoffOfARolledBackRowFreesItsSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		w.SetLane(store.LaneSMS, 1)
		ran := make(chan string, 4)
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			ran <- it.DedupeKey
			return nil
		})
		runningWorker(t, w)
		boom := errors.New("the change failed")
		if handed, err := handOver(s, w, "textback:rolled-back", boom, nil); !handed || !errors.Is(err, boom) {
			t.Fatalf("handed %v, err %v", handed, err)
		}
		if handed, err := handOver(s, w, "textback:next", nil, nil); !handed || err != nil {
			t.Fatalf("after a rollback: handed %v, err %v; want the slot free again", handed, err)
		}
		if k := within(t, ran, 5*time.Second, "the next row did not run"); k != "textback:next" {
			t.Fatalf("ran %q", k)
		}
		if _, err := s.OutboxByKey(context.Background(), "textback:rolled-back"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the rolled-back row: %v, want none", err)
		}
		// A row whose dedupe key exists is not written: its slot comes back.
		slotFree(t, w)
		if handed, err := handOver(s, w, "textback:next", nil, nil); !handed || err != nil {
			t.Fatalf("a duplicate: handed %v, err %v", handed, err)
		}
		if handed, err := handOver(s, w, "textback:third", nil, nil); !handed || err != nil {
			t.Fatalf("after a duplicate: handed %v, err %v; want the slot free again", handed, err)
		}
		if k := within(t, ran, 5*time.Second, "the third row did not run"); k != "textback:third" {
			t.Fatalf("ran %q", k)
		}
	})
}

// A full pool takes no handed row: it is written to be claimed, and runs
// when a slot frees.
func TestHandoffWaitsForAFreeSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		w.SetLane(store.LaneSMS, 1)
		release := make(chan struct{})
		ran := make(chan string, 4)
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			ran <- it.DedupeKey
			if it.DedupeKey == "textback:slow" {
				<-release
			}
			return nil
		})
		runningWorker(t, w)
		if handed, err := handOver(s, w, "textback:slow", nil, nil); !handed || err != nil {
			t.Fatalf("handed %v, err %v", handed, err)
		}
		within(t, ran, 5*time.Second, "the first row did not run")
		if handed, err := handOver(s, w, "textback:queued", nil, nil); handed || err != nil {
			t.Fatalf("with the one slot busy: handed %v, err %v; want the row written to be claimed", handed, err)
		}
		if row, _ := s.OutboxByKey(context.Background(), "textback:queued"); row.State != store.OutboxPending {
			t.Fatalf("the row is %s, want pending", row.State)
		}
		close(release)
		if k := within(t, ran, 5*time.Second, "the queued row did not run once the slot was free"); k != "textback:queued" {
			t.Fatalf("ran %q", k)
		}
	})
}

// A handed row whose run dies before it is settled (the replica killed as
// it starts) runs again once its lease lapses, as a claimed row.
func TestHandedRowOfADeadReplicaRunsAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		var calls atomic.Int32
		rerun := make(chan string, 1)
		perform := func(ctx context.Context, it store.OutboxItem) error {
			if calls.Add(1) == 1 {
				runtime.Goexit() // the replica dies as the row starts
			}
			rerun <- it.LockedBy
			return nil
		}
		a := bot.NewWorker(s, bot.SystemClock{}, "replica-a", quiet)
		a.SetLease(time.Second)
		a.Handle(bot.KindSMS, perform)
		runningWorker(t, a)
		if handed, err := handOver(s, a, "textback:1", nil, nil); !handed || err != nil {
			t.Fatalf("handed %v, err %v", handed, err)
		}
		b := bot.NewWorker(s, bot.SystemClock{}, "replica-b", quiet)
		b.Handle(bot.KindSMS, perform)
		runningWorker(t, b)
		within(t, rerun, 10*time.Second, "the dead replica's handed row did not run again once its lease lapsed")
	})
}

// cardRow queues a card row of case 7 in its own transaction: due at
// runAt, or, with coalesce, handed to w (when w has a free slot).
func cardRow(t *testing.T, s *store.Store, w *bot.Worker, key string, runAt time.Time, coalesce bool) (handed bool) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var h *store.OutboxHandoff
		if coalesce {
			h = w.Handoff(store.LaneSlack, nil)
			handed = h != nil
		}
		return tx.EnqueueLater(store.NewOutbox{Kind: bot.KindCard + ".slack", DedupeKey: key, Payload: key, CaseID: 7,
			RunAt: runAt, Coalesce: coalesce, Handoff: h}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	return handed
}

// A coalescing card row due now, handed to the running worker, hands over
// the case's card row that waits for it (a first card held for its
// text-back): that row, pulled forward and claimed for the worker in the
// flush's statement, runs as the transaction commits, once, with no claim
// statement, and no second row is written. When an earlier card row of
// the case is still running elsewhere, the waiting row is only pulled
// forward: it waits its turn, and the worker's slot is given back.
func TestCoalescingCardHandsOverItsWaitingRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		ran := make(chan store.OutboxItem, 4)
		release := make(chan struct{})
		w.Handle(bot.KindCard+".slack", func(ctx context.Context, it store.OutboxItem) error {
			ran <- it
			<-release // counted up to here: the row's end looks for the case's next row
			return nil
		})
		runningWorker(t, w)
		cardRow(t, s, w, "card:held", time.Now().Add(time.Hour), false)
		counter := s.CountStatements()
		defer s.StopCounting()
		if !cardRow(t, s, w, "card:now", time.Now(), true) {
			t.Fatal("no slot for the card")
		}
		it := within(t, ran, 5*time.Second, "the waiting card row did not run")
		if it.DedupeKey != "card:held" || it.Payload != `"card:held"` || it.Attempts != 1 || it.ClaimSeq != 1 || it.LockedBy != "w" || it.CaseID == nil || *it.CaseID != 7 {
			t.Fatalf("ran %+v, want the waiting row, claimed by w: attempt 1, claim 1", it)
		}
		s.StopCounting()
		close(release)
		if n := counter.Total("WHERE id IN ( SELECT id FROM outbox o"); n != 0 {
			t.Errorf("%d claims, want none: the waiting row was handed over", n)
		}
		var keys []string
		if err := s.DB().Select(&keys, `SELECT dedupe_key FROM outbox ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 {
			t.Errorf("outbox rows %q, want the waiting row only", keys)
		}
		select {
		case again := <-ran:
			t.Fatalf("ran again: %+v", again)
		case <-time.After(200 * time.Millisecond):
		}
	})
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		w.Handle(bot.KindCard+".slack", func(ctx context.Context, it store.OutboxItem) error { return nil })
		cardRow(t, s, w, "card:first", time.Now(), false)
		got, err := s.ClaimOutbox(context.Background(), store.OutboxClaim{Worker: "other", Now: time.Now(), Lease: time.Minute, Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("claimed %v, %v", got, err)
		}
		cardRow(t, s, w, "card:held", time.Now().Add(time.Hour), false)
		runningWorker(t, w)
		if !cardRow(t, s, w, "card:now", time.Now(), true) {
			t.Fatal("no slot for the card")
		}
		slotFreeOn(t, w, store.LaneSlack)
		var row struct {
			State    string    `db:"state"`
			ClaimSeq int64     `db:"claim_seq"`
			RunAt    time.Time `db:"run_at"`
		}
		if err := s.DB().Get(&row, s.DB().Rebind(`SELECT state, claim_seq, run_at FROM outbox WHERE dedupe_key = ?`), "card:held"); err != nil {
			t.Fatal(err)
		}
		if row.State != store.OutboxPending || row.ClaimSeq != 0 || row.RunAt.After(time.Now()) {
			t.Errorf("the waiting row: %+v, want pending, unclaimed, due now", row)
		}
	})
}

// slotFreeOn returns once w has a free slot of lane for a handed row.
func slotFreeOn(t *testing.T, w *bot.Worker, lane string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if h := w.Handoff(lane, nil); h != nil {
			h.Cancel()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot of lane %s was given back", lane)
		}
	}
}

// A refresh is handed over only while its lane has slots to spare (a
// quarter of them): near the limit, rows wait to be claimed oldest first,
// and a handed refresh would take the slot one of them was waiting for.
// A row that must not wait (Handoff) still takes the last free slot.
func TestSpareHandoffLeavesTheLastSlotsToTheLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		w.SetLane(store.LaneSlack, 8)
		runningWorker(t, w)
		var held []*store.OutboxHandoff
		t.Cleanup(func() {
			for _, h := range held {
				h.Cancel()
			}
		})
		for range 7 {
			h := w.HandoffSpare(store.LaneSlack)
			if h == nil {
				t.Fatalf("no spare slot with %d of 8 taken", len(held))
			}
			held = append(held, h)
		}
		if h := w.HandoffSpare(store.LaneSlack); h != nil {
			h.Cancel()
			t.Fatal("a spare slot handed with 7 of 8 taken, want none: fewer than a quarter are free")
		}
		h := w.Handoff(store.LaneSlack, nil)
		if h == nil {
			t.Fatal("no slot for a row that must not wait, with 1 of 8 free")
		}
		held = append(held, h)
	})
}

// A card or thread row's end that ran while a claim skipped the next row
// of its case (the row still running as the claim looked; the next row
// written after the end's statement began, so the end did not see it
// waiting) lets that row run as the end commits, not at the next poll:
// whether the worker marks the row done, or the performer's own statement
// does, with its post.
func TestRowBehindRunsWhenAnEndOverlappedItsSkippingClaim(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		end        func(ctx context.Context, s *store.Store) error
		statement  string // the end's, as it waits for a lock
	}{
		{"settled by the worker", bot.KindCard + ".slack", nil, "%UPDATE outbox SET state = 'done'%"},
		{"ended with its post", bot.KindThread + ".slack", func(ctx context.Context, s *store.Store) error {
			return bot.EndWithPost(ctx, s, "entry:7:1")
		}, "%saved_post%"},
	} {
		t.Run(tc.name, func(t *testing.T) { rowBehindAnOverlappedEnd(t, tc.kind, tc.end, tc.statement) })
	}
}

func rowBehindAnOverlappedEnd(t *testing.T, kind string, end func(context.Context, *store.Store) error, statement string) {
	s := storetest.New(t, "postgres")
	w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
	w.SetPoll(time.Minute)
	ran := make(chan store.OutboxItem, 4)
	release := make(chan struct{})
	w.Handle(kind, func(ctx context.Context, it store.OutboxItem) error {
		ran <- it
		if it.DedupeKey != "row:7:1" {
			return nil
		}
		<-release
		if end != nil {
			return end(ctx, s)
		}
		return nil
	})
	runningWorker(t, w)
	ctx := context.Background()
	enqueue := func(key string) {
		t.Helper()
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: key, Payload: bot.CardJob{CaseID: 7}, CaseID: 7}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("row:7:1")
	first := within(t, ran, 5*time.Second, "the first row did not run")

	// The first row's end waits on its row, held here, after its statement
	// began (and took the snapshot that decides whether a row waits).
	hold, err := s.DB().Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.Exec(`SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE`, first.ID); err != nil {
		t.Fatal(err)
	}
	close(release)
	storetest.WaitForLockWait(t, s, statement)

	// The next row of the case, written now, wakes the worker, whose claim
	// skips it: the first row still runs.
	counter := s.CountStatements()
	defer s.StopCounting()
	enqueue("row:7:2")
	for deadline := time.Now().Add(5 * time.Second); counter.Total("UPDATE outbox SET", "ORDER BY id") == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no claim followed the second row's commit")
		}
	}
	select {
	case it := <-ran:
		t.Fatalf("row %s ran while the row before it still ran", it.DedupeKey)
	case <-time.After(50 * time.Millisecond):
	}

	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if it := within(t, ran, 2*time.Second, "the row behind did not run when the row before it ended (it waits for the next poll)"); it.DedupeKey != "row:7:2" {
		t.Fatalf("ran %s, want row:7:2", it.DedupeKey)
	}
}
