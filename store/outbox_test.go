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
		if string(it.Payload) != `{"case":1}` || it.Kind != "sms.send" || it.MaxAttempts != store.SMSMaxAttempts {
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
		got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w1", Now: t0, Lease: 30 * time.Second, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].DedupeKey != "now" || got[0].Attempts != 1 || got[0].State != store.OutboxRunning {
			t.Fatalf("claimed %+v, want only the due row, attempt 1, running", got)
		}
		// Claimed rows are hidden from the next claim while the claim lasts,
		// however far the bot's clock moves: the lease runs on the database's.
		again, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w2", Now: t0.Add(time.Hour), Lease: 30 * time.Second, Limit: 10})
		if err != nil || len(again) != 1 || again[0].DedupeKey != "later" {
			t.Fatalf("second claim = %+v, %v; want only the row that fell due meanwhile", again, err)
		}
	})
}

// A worker whose claim lapsed (it stalled, lost the database) and whose row
// was claimed again cannot settle the row any more, even under the same
// worker name (another goroutine of the same replica): each claim is fenced
// by its own number.
func TestOutboxLapsedClaimIsFenced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "k", t0)
		first, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: 200 * time.Millisecond, Limit: 10})
		if err != nil || len(first) != 1 {
			t.Fatalf("first claim = %+v, %v", first, err)
		}
		time.Sleep(400 * time.Millisecond)
		second, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 10})
		if err != nil || len(second) != 1 || second[0].Attempts != 2 || second[0].ClaimSeq == first[0].ClaimSeq {
			t.Fatalf("claim after the lease lapsed = %+v, %v; want the row again, attempt 2, a new claim number", second, err)
		}
		// The new claim knows the last one lapsed: what its worker sent a
		// remote may still land.
		if first[0].Lapsed() || !second[0].Lapsed() {
			t.Fatalf("lapsed: first claim %v, second %v; want false, true", first[0].Lapsed(), second[0].Lapsed())
		}
		stale := first[0]
		if ok, err := s.ExtendOutbox(ctx, stale, time.Minute); err != nil || ok {
			t.Fatalf("stale heartbeat: held=%v err=%v, want false", ok, err)
		}
		if ok, err := s.CompleteOutbox(ctx, stale, t0); err != nil || ok {
			t.Fatalf("stale completion: done=%v err=%v, want false", ok, err)
		}
		if ok, err := s.RetryOutbox(ctx, stale, t0, t0, "x"); err != nil || ok {
			t.Fatalf("stale retry: %v %v, want false", ok, err)
		}
		if ok, err := s.SnoozeOutbox(ctx, stale, t0, t0, "x"); err != nil || ok {
			t.Fatalf("stale snooze: %v %v, want false", ok, err)
		}
		if ok, err := s.KillOutbox(ctx, stale, t0, "x"); err != nil || ok {
			t.Fatalf("stale kill: %v %v, want false", ok, err)
		}
		it, _ := s.OutboxByKey(ctx, "k")
		if it.State != store.OutboxRunning || it.ClaimSeq != second[0].ClaimSeq || it.LastError != store.ClaimLapsed {
			t.Fatalf("after a stale worker settled: %+v, want still running under the second claim", it)
		}
		if ok, err := s.CompleteOutbox(ctx, second[0], t0); err != nil || !ok {
			t.Fatalf("current claim's completion: done=%v err=%v", ok, err)
		}
		if it, _ := s.OutboxByKey(ctx, "k"); it.State != store.OutboxDone || it.Lapsed() {
			t.Fatalf("state %s (%q), want done", it.State, it.LastError)
		}
	})
}

// A heartbeat keeps a long-running row's claim; without one the row is
// claimable again within the lease.
func TestOutboxHeartbeatExtendsClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "k", t0)
		// A lease of 4 s and beats a second apart: more than the lease in
		// all, each with 3 s to spare on a machine busy with other tests.
		const lease = 4 * time.Second
		got, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "a", Now: t0, Lease: lease, Limit: 1})
		if len(got) != 1 {
			t.Fatal("not claimed")
		}
		for i := 0; i < 5; i++ {
			time.Sleep(time.Second)
			if ok, err := s.ExtendOutbox(ctx, got[0], lease); err != nil || !ok {
				t.Fatalf("heartbeat %d: held=%v err=%v", i, ok, err)
			}
			if other, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "b", Now: t0, Lease: lease, Limit: 1}); len(other) != 0 {
				t.Fatalf("taken over after %d heartbeats", i+1)
			}
		}
		lanes, err := s.OutboxLanes(ctx)
		// A millisecond over is the epoch's float arithmetic (SQLite's
		// julianday), not a longer lease.
		if w := lanes[store.LaneOther]; err != nil || !w.Leased || w.LeaseEnds <= 0 || w.LeaseEnds > lease+time.Millisecond || !w.NextRun.IsZero() {
			t.Fatalf("lanes = %+v, %v; want the lease ending within %s", lanes, err, lease)
		}
		time.Sleep(lease + 200*time.Millisecond)
		if lanes, _ := s.OutboxLanes(ctx); !lanes[store.LaneOther].Leased || lanes[store.LaneOther].LeaseEnds > 0 {
			t.Fatalf("lanes after the lease = %+v, want lapsed", lanes)
		}
		other, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "b", Now: t0, Lease: lease, Limit: 1})
		if len(other) != 1 || other[0].LockedBy != "b" {
			t.Fatalf("after heartbeats stopped: %+v, want the row taken over by b", other)
		}
	})
}

// A snoozed row waits without spending an attempt.
func TestOutboxSnoozeKeepsAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "k", t0)
		now := t0
		for i := 0; i < 3*store.DefaultMaxAttempts; i++ {
			got, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: now, Lease: time.Minute, Limit: 1})
			if len(got) != 1 || got[0].Attempts != 1 {
				t.Fatalf("claim %d = %+v, want the row at attempt 1", i, got)
			}
			if ok, err := s.SnoozeOutbox(ctx, got[0], now.Add(time.Second), now, "slack: 429"); err != nil || !ok {
				t.Fatalf("snooze: %v %v", ok, err)
			}
			if again, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: now, Lease: time.Minute, Limit: 1}); len(again) != 0 {
				t.Fatal("claimed before its snooze ended")
			}
			now = now.Add(time.Second)
		}
		it, _ := s.OutboxByKey(ctx, "k")
		if it.State != store.OutboxPending || it.Attempts != 0 || it.LastError != "slack: 429" {
			t.Fatalf("after snoozes: %+v", it)
		}
	})
}

// Each lane is claimed on its own: a pool for texts never picks up chat
// rows, and the pool for the rest takes whatever has no pool of its own.
func TestOutboxClaimByLane(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, k := range []string{"sms.send", "chat.card.slack", "chat.thread.discord", "chat.post.teams", "test"} {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: k, DedupeKey: k, Payload: 1}, t0); err != nil {
				t.Fatal(err)
			}
		}
		kinds := func(c store.OutboxClaim) []string {
			c.Worker, c.Now, c.Lease, c.Limit = "w", t0, time.Minute, 10
			items, err := s.ClaimOutbox(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			var ks []string
			for _, it := range items {
				ks = append(ks, it.Kind+"@"+it.Lane)
			}
			return ks
		}
		if got := fmt.Sprint(kinds(store.OutboxClaim{Lanes: []string{store.LaneSMS}})); got != "[sms.send@sms]" {
			t.Fatalf("sms lane claimed %s", got)
		}
		if got := fmt.Sprint(kinds(store.OutboxClaim{Lanes: []string{store.LaneSlack}})); got != "[chat.card.slack@slack]" {
			t.Fatalf("slack lane claimed %s", got)
		}
		rest := kinds(store.OutboxClaim{ExceptLanes: []string{store.LaneSMS, store.LaneSlack, store.LaneDiscord}})
		if got := fmt.Sprint(rest); got != "[chat.post.teams@teams test@other]" {
			t.Fatalf("the rest claimed %s", got)
		}
		if got := fmt.Sprint(kinds(store.OutboxClaim{})); got != "[chat.thread.discord@discord]" {
			t.Fatalf("any lane claimed %s", got)
		}
	})
}

func TestOutboxRetryAndDead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "flaky", t0)
		got, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 1})
		if len(got) != 1 {
			t.Fatal("not claimed")
		}
		if ok, err := s.RetryOutbox(ctx, got[0], t0.Add(16*time.Second), t0, "twilio: 503"); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if got, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0.Add(15 * time.Second), Lease: time.Minute, Limit: 1}); len(got) != 0 {
			t.Fatal("claimed before its retry time")
		}
		next, err := s.NextOutboxRun(ctx)
		if err != nil || !next.Equal(t0.Add(16*time.Second)) {
			t.Fatalf("next run = %v, %v", next, err)
		}
		lanes, err := s.OutboxLanes(ctx)
		if d := lanes[store.LaneOther].NextRun.Sub(t0.Add(16 * time.Second)); err != nil || d < 0 || d > 2*time.Millisecond || lanes[store.LaneOther].Leased {
			t.Fatalf("lanes = %+v, %v; want the row due at %s", lanes, err, t0.Add(16*time.Second))
		}
		got, _ = s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0.Add(16 * time.Second), Lease: time.Minute, Limit: 1})
		if len(got) != 1 || got[0].LastError != "twilio: 503" || got[0].Attempts != 2 {
			t.Fatalf("retry claim = %+v", got)
		}
		if ok, err := s.KillOutbox(ctx, got[0], t0.Add(17*time.Second), "twilio: 21211 invalid To"); err != nil || !ok {
			t.Fatal(ok, err)
		}
		dead, err := s.OutboxByState(ctx, store.OutboxDead, 10)
		if err != nil || len(dead) != 1 || dead[0].LastError != "twilio: 21211 invalid To" {
			t.Fatalf("dead rows = %+v, %v", dead, err)
		}
		if got, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0.Add(24 * time.Hour), Lease: time.Minute, Limit: 10}); len(got) != 0 {
			t.Fatal("a dead row was claimed again")
		}
	})
}

// OutboxBusy is what the demo's replay waits on before it moves its clock:
// a row running, or pending and due; not one due later, nor one done.
func TestOutboxBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		busy := func(at time.Time) bool {
			t.Helper()
			b, err := s.OutboxBusy(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if busy(t0) {
			t.Fatal("an empty outbox is busy")
		}
		enqueue(t, s, "later", t0.Add(time.Minute))
		if busy(t0) || !busy(t0.Add(time.Minute)) {
			t.Fatal("a row due in a minute: busy now, or not once due")
		}
		got, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0.Add(time.Minute), Lease: time.Minute, Limit: 1})
		if len(got) != 1 || !busy(t0) {
			t.Fatalf("a running row (%d claimed) is not busy", len(got))
		}
		if ok, err := s.CompleteOutbox(ctx, got[0], t0.Add(time.Minute)); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if busy(t0.Add(time.Hour)) {
			t.Fatal("a done row is busy")
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
					items, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: w, Now: t0, Lease: time.Hour, Limit: 7})
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
						if ok, err := s.CompleteOutbox(ctx, it, t0); err != nil || !ok {
							t.Error(ok, err)
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
// and other kinds are not held up. (Case 1's card is posted already: an
// entry waits for its case's first card, TestOutboxThreadEntryWaitsForTheFirstCard.)
func TestOutboxThreadEntriesInOrderPerCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := storetest.OpenCase(t, s, t0)
		if _, err := s.ReserveCard(ctx, a.ID, "slack", "C1", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveCard(ctx, a.ID, "slack", "C1", "1700000000.000100"); err != nil {
			t.Fatal(err)
		}
		add := func(kind, key string, caseID int64) {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: key, Payload: key, CaseID: caseID}, t0); err != nil {
				t.Fatal(err)
			}
		}
		add("chat.thread.slack", "a1", a.ID)
		add("chat.thread.slack", "a2", a.ID)
		add("chat.thread.slack", "b1", a.ID+1)
		add("chat.card.slack", "a-card", a.ID)
		add("chat.card.slack", "a-card-2", a.ID)
		got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 10})
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
		if more, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 10}); len(more) != 0 {
			t.Fatal("a2 claimed while a1 runs")
		}
		for _, it := range got {
			if it.DedupeKey == "a1" || it.DedupeKey == "a-card" {
				s.CompleteOutbox(ctx, it, t0)
			}
		}
		more, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 10})
		if len(more) != 2 || more[0].DedupeKey != "a2" || more[1].DedupeKey != "a-card-2" {
			t.Fatalf("after a1 and the first refresh: %+v", more)
		}
	})
}

// A card row's end says whether a row of its case waits behind it in its
// lane, so that its worker claims again only then: on PostgreSQL as the
// statement sees it; SQLite does not look and says so for every such row.
func TestOutboxBatchEndSaysWhatWaitsBehind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := storetest.OpenCase(t, s, t0)
		for _, key := range []string{"a-card", "a-card-2"} {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: key, Payload: key, CaseID: a.ID}, t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "text", Payload: "text", CaseID: a.ID}, t0); err != nil {
			t.Fatal(err)
		}
		claim := func() []store.OutboxItem {
			t.Helper()
			got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		first := claim() // the first refresh and the text
		if len(first) != 2 {
			t.Fatalf("claimed %+v, want the first refresh and the text", first)
		}
		held, behind, err := s.CompleteOutboxBatch(ctx, first, t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range first {
			if !held[it.ID] {
				t.Errorf("%s not marked done", it.DedupeKey)
			}
			if want := it.Kind == "chat.card.slack"; behind[it.ID] != want {
				t.Errorf("%s: behind %v, want %v (the second refresh waits behind the first; a text is in no line)", it.DedupeKey, behind[it.ID], want)
			}
		}
		second := claim()
		if len(second) != 1 || second[0].DedupeKey != "a-card-2" {
			t.Fatalf("claimed %+v, want the second refresh", second)
		}
		_, behind, err = s.CompleteOutboxBatch(ctx, second, t0)
		if err != nil {
			t.Fatal(err)
		}
		if want := s.Dialect() == "sqlite"; behind[second[0].ID] != want {
			t.Errorf("the last refresh: behind %v, want %v (nothing waits; SQLite does not look)", behind[second[0].ID], want)
		}
	})
}

// An embedded store's rows left running by a process that died are taken
// again as the next one starts, not after their lease.
func TestOutboxReleaseClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "left", t0)
		if got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "dead", Now: t0, Lease: time.Hour, Limit: 10}); err != nil || len(got) != 1 {
			t.Fatalf("claim = %v, %v", got, err)
		}
		if got, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "next", Now: t0, Lease: time.Hour, Limit: 10}); len(got) != 0 {
			t.Fatalf("a row under a live lease was claimed again: %+v", got)
		}
		if n, err := s.ReleaseOutboxClaims(ctx, ""); err != nil || n != 1 {
			t.Fatalf("released %d, %v", n, err)
		}
		got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "next", Now: t0, Lease: time.Hour, Limit: 10})
		if err != nil || len(got) != 1 || got[0].DedupeKey != "left" || !got[0].Lapsed() {
			t.Fatalf("after release: %+v, %v; want the row, its last claim lapsed", got, err)
		}
	})
}

// A replica restarted in its seat takes back at once the rows its dead
// predecessor left running, and only those: another seat's (or another
// host's) claims keep their lease.
func TestOutboxReleaseClaimsOfASeat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, w := range []string{"web-1~0a0b0c0d-41-aa1122", "web-1~99887766-42-bb3344", "web-2~0a0b0c0d-43-cc5566"} {
			enqueue(t, s, "row of "+w, t0)
			if got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: w, Now: t0, Lease: time.Hour, Limit: 1}); err != nil || len(got) != 1 {
				t.Fatalf("claim for %s = %v, %v", w, got, err)
			}
		}
		if n, err := s.ReleaseOutboxClaims(ctx, "web-1~0a0b0c0d-"); err != nil || n != 1 {
			t.Fatalf("released %d, %v; want the one row of the seat", n, err)
		}
		got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "web-1~0a0b0c0d-77-dd7788", Now: t0, Lease: time.Hour, Limit: 10})
		if err != nil || len(got) != 1 || got[0].DedupeKey != "row of web-1~0a0b0c0d-41-aa1122" {
			t.Fatalf("after the release: %+v, %v", got, err)
		}
		if got[0].ClaimSeq < 2 || !got[0].Lapsed() {
			t.Errorf("claim seq %d, lapsed %v: the new claim must fence the dead one's and know it lapsed", got[0].ClaimSeq, got[0].Lapsed())
		}
	})
}

// Rows due together go oldest first, whenever each became due: after an
// outage every held text is due at about the same moment, and the caller
// who waited longest must not be texted last.
func TestOutboxDueRowsGoOldestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "held longest", t0.Add(3*time.Second)) // snoozed again and again: due last
		enqueue(t, s, "held briefly", t0.Add(time.Second))
		got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0.Add(5 * time.Second), Lease: time.Minute, Limit: 1})
		if err != nil || len(got) != 1 || got[0].DedupeKey != "held longest" {
			t.Fatalf("first claim = %+v, %v; want the row queued first", got, err)
		}
	})
}

// Rows queued with EnqueueLater are written with the transaction: in the
// order queued, with the transaction's events, a known dedupe key dropped,
// visible to the transaction's own reads of the outbox, and not at all when
// it rolls back.
func TestOutboxEnqueueLaterWritesWithTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		enqueue(t, s, "later:known", t0)
		c := &store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900123", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		signal := s.OutboxSignal()
		for len(signal) > 0 {
			<-signal
		}
		counted := s.CountStatements()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, key := range []string{"later:a", "later:known", "later:b"} {
				if err := tx.EnqueueLater(store.NewOutbox{Kind: "chat.card.slack", DedupeKey: key, Payload: map[string]string{"k": key}, CaseID: c.ID}, t0); err != nil {
					return err
				}
			}
			if err := tx.AddEvent(ctx, c.ID, t0, "test_event", "", nil); err != nil {
				return err
			}
			// The transaction reads its own rows.
			it, err := tx.OutboxByKey(ctx, "later:b")
			if err != nil {
				return fmt.Errorf("its own queued row, read in the transaction: %w", err)
			}
			if it.State != store.OutboxPending || it.Lane != store.LaneSlack {
				return fmt.Errorf("row %+v", it)
			}
			return tx.EnqueueLater(store.NewOutbox{Kind: "sms.send", DedupeKey: "later:c", Payload: 1}, t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		s.StopCounting()
		// Two writes of the outbox for four rows: the three queued before
		// the read, then the one queued after it.
		if n := counted.Total("INSERT INTO outbox"); n != 2 {
			t.Errorf("the transaction wrote the outbox in %d statements, want 2", n)
		}
		a, _ := s.OutboxByKey(ctx, "later:a")
		b, _ := s.OutboxByKey(ctx, "later:b")
		cc, _ := s.OutboxByKey(ctx, "later:c")
		if a.ID == 0 || !(a.ID < b.ID && b.ID < cc.ID) {
			t.Errorf("ids a=%d b=%d c=%d: want all written, in the order queued", a.ID, b.ID, cc.ID)
		}
		if cc.MaxAttempts != store.SMSMaxAttempts || cc.Lane != store.LaneSMS {
			t.Errorf("the text's row: %+v", cc)
		}
		known, _ := s.OutboxByKey(ctx, "later:known")
		if known.Kind != "test" {
			t.Errorf("the known key's row was replaced: %+v", known)
		}
		if ok, err := s.HasEvent(ctx, c.ID, "test_event", ""); err != nil || !ok {
			t.Errorf("the transaction's event: %v, %v", ok, err)
		}
		select {
		case <-signal:
		case <-time.After(5 * time.Second):
			t.Error("the commit woke no worker")
		}
		if wakes := s.OutboxWakes(); wakes[store.LaneSlack].IsZero() || wakes[store.LaneSMS].IsZero() {
			t.Errorf("lanes woken: %v, want slack and sms", wakes)
		}

		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.EnqueueLater(store.NewOutbox{Kind: "test", DedupeKey: "later:rolled-back", Payload: 1}, t0); err != nil {
				return err
			}
			return fmt.Errorf("no")
		})
		if err == nil {
			t.Fatal("the transaction did not fail")
		}
		if _, err := s.OutboxByKey(ctx, "later:rolled-back"); err == nil {
			t.Error("a rolled-back transaction's queued row was written")
		}
	})
}

// A refused attempt's send start is forgotten only while its row's claim
// is current and the record is that attempt's own: a worker that took the
// row over may be sending under it.
func TestForgetSendStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := store.Message{Direction: store.Outbound, Kind: "textback", LineNumber: "+441632960001", CallerNumber: "+447700900001",
			Body: "hi", Status: "pending", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertMessage(ctx, &m); err != nil {
			t.Fatal(err)
		}
		started := t0.Add(time.Second)
		read, _, _, err := s.MessageToSend(ctx, m.ID, started)
		if err != nil || read.SendStartedAt == nil {
			t.Fatalf("send start not recorded: %+v %v", read, err)
		}
		enqueue(t, s, "textback", t0)
		its, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w1", Now: t0, Lease: time.Minute, Limit: 1})
		if err != nil || len(its) != 1 {
			t.Fatalf("claim: %d rows (%v)", len(its), err)
		}
		stale := its[0]
		stale.ClaimSeq--
		startedAt := func() *time.Time {
			got, err := s.MessageByID(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.SendStartedAt
		}
		for what, forget := range map[string]func() error{
			"another start":      func() error { return s.ForgetSendStart(ctx, m.ID, started.Add(time.Second), its[0]) },
			"a claim taken over": func() error { return s.ForgetSendStart(ctx, m.ID, started, stale) },
		} {
			if err := forget(); err != nil {
				t.Fatal(err)
			}
			if startedAt() == nil {
				t.Fatalf("%s: the record was forgotten", what)
			}
		}
		if err := s.ForgetSendStart(ctx, m.ID, started, its[0]); err != nil {
			t.Fatal(err)
		}
		if at := startedAt(); at != nil {
			t.Errorf("the attempt's own record under a current claim stays: %v", at)
		}
	})
}

// A claim asked to start sends records, in its statement, the send start of
// each text row it takes whose text goes at once, and hands the row its
// message as MessageToSend reads it; a scheduled or time-bound text, a row
// of another kind, and SQLite's claims are left to MessageToSend. An
// earlier attempt's start stays, so the performer sees it was not its own.
func TestClaimStartsSends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		if _, err := s.OptOut(ctx, c.CallerNumber, "STOP", t0); err != nil {
			t.Fatal(err)
		}
		text := func(key string, payload map[string]any, started *time.Time) int64 {
			t.Helper()
			m := store.Message{CaseID: &c.ID, Direction: "out", Kind: "textback", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
				Body: "Sorry we missed you", Status: "pending", CreatedAt: t0, UpdatedAt: t0}
			if _, err := s.InsertMessage(ctx, &m); err != nil {
				t.Fatal(err)
			}
			if started != nil {
				if _, err := s.StartSend(ctx, m.ID, *started); err != nil {
					t.Fatal(err)
				}
			}
			payload["message_id"] = m.ID
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: key, Payload: payload, CaseID: c.ID, RunAt: t0}, t0); err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		earlier := t0.Add(-time.Minute)
		now := text("now", map[string]any{}, nil)
		again := text("again", map[string]any{}, &earlier)
		scheduled := text("scheduled", map[string]any{"scheduled": true}, nil)
		bound := text("bound", map[string]any{"not_after": t0.Add(time.Hour)}, nil)
		enqueue(t, s, "other", t0)
		at := t0.Add(time.Second)
		items, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 10, StartSends: "sms.send", SendStartAt: at})
		if err != nil || len(items) != 5 {
			t.Fatalf("claimed %d rows (%v), want 5", len(items), err)
		}
		pg := s.Dialect() == "postgres"
		for _, it := range items {
			var job struct {
				MessageID int64 `json:"message_id"`
			}
			_ = it.Decode(&job)
			sent := it.Sending
			switch job.MessageID {
			case now, again:
				if !pg {
					if sent != nil {
						t.Errorf("SQLite: message %d came with its claim", job.MessageID)
					}
					continue
				}
				wantStart := at
				if job.MessageID == again {
					wantStart = earlier
				}
				if sent == nil || sent.Message.ID != job.MessageID || sent.Message.Body != "Sorry we missed you" || sent.Message.CaseID == nil ||
					*sent.Message.CaseID != c.ID || !sent.OptedOut || !sent.StartAt.Equal(at) ||
					sent.Message.SendStartedAt == nil || !sent.Message.SendStartedAt.Equal(wantStart) {
					t.Errorf("message %d: sending %+v, want it with its start at %s, opted out", job.MessageID, sent, wantStart)
				}
			default:
				if sent != nil {
					t.Errorf("row %s: sending %+v, want none", it.DedupeKey, sent)
				}
			}
		}
		for id, want := range map[int64]bool{now: pg, scheduled: false, bound: false} {
			m, err := s.MessageByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if (m.SendStartedAt != nil) != want {
				t.Errorf("message %d: send start %v, want recorded %v", id, m.SendStartedAt, want)
			}
		}
	})
}

// A prune deletes the done rows last changed before the retention's start
// and nothing else: not a row created before it but finished after, nor a
// dead row, a digest, a row still to run, or a newer one.
func TestPruneOutboxDeletesOnlyOldDoneRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		before := t0.Add(-7 * 24 * time.Hour)
		old := t0.Add(-10 * 24 * time.Hour)
		// row enqueues key at created and, unless end is "", claims it then
		// and ends it at ended: "done" or "dead".
		row := func(key, kind string, created time.Time, end string, ended time.Time) {
			t.Helper()
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: key, Payload: 1, RunAt: created}, created); err != nil {
				t.Fatal(err)
			}
			if end == "" {
				return
			}
			got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: created, Lease: time.Minute, Limit: 10})
			if err != nil || len(got) != 1 || got[0].DedupeKey != key {
				t.Fatalf("claim of %s: %+v %v", key, got, err)
			}
			var ok bool
			if end == store.OutboxDone {
				ok, err = s.CompleteOutbox(ctx, got[0], ended)
			} else {
				ok, err = s.KillOutbox(ctx, got[0], ended, "x")
			}
			if err != nil || !ok {
				t.Fatalf("end of %s: %v %v", key, ok, err)
			}
		}
		row("old-done", "sms.send", old, store.OutboxDone, old.Add(time.Minute))
		row("old-done-late", "sms.send", old.Add(time.Second), store.OutboxDone, t0.Add(-24*time.Hour))
		row("old-dead", "sms.send", old.Add(2*time.Second), store.OutboxDead, old.Add(time.Hour))
		row("old-digest", "chat.digest.slack", old.Add(3*time.Second), store.OutboxDone, old.Add(time.Hour))
		row("old-pending", "sms.send", old.Add(4*time.Second), "", time.Time{})
		if _, err := s.DB().Exec(s.DB().Rebind(`UPDATE outbox SET run_at = ? WHERE dedupe_key = 'old-pending'`), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		row("older-than-retention", "chat.card.slack", before.Add(-time.Hour), store.OutboxDone, before.Add(-time.Hour))
		row("recent", "sms.send", t0.Add(-24*time.Hour), store.OutboxDone, t0.Add(-24*time.Hour))

		n, err := s.PruneOutbox(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		if err := s.DB().Select(&left, `SELECT dedupe_key FROM outbox ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		want := []string{"old-done-late", "old-dead", "old-digest", "old-pending", "recent"}
		if n != 2 || fmt.Sprint(left) != fmt.Sprint(want) {
			t.Fatalf("pruned %d, left %v; want 2 pruned, left %v", n, left, want)
		}
		// Again, nothing: what is left is kept.
		if n, err := s.PruneOutbox(ctx, before); err != nil || n != 0 {
			t.Fatalf("second prune: %d %v, want 0", n, err)
		}
		// Once the late one's end is past the retention too, it goes.
		if n, err := s.PruneOutbox(ctx, t0); err != nil || n != 2 {
			t.Fatalf("prune at t0: %d %v, want the late one and the recent one", n, err)
		}
	})
}
