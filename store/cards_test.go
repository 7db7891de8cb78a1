package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A card's first post is reserved only once a transaction that holds its
// case locked has ended, and the reservation records the newest outbox row
// committed by then: the card rendered after it shows that transaction's
// change, so that change's refresh row may be skipped. On PostgreSQL the
// reservation's foreign key check waits for the lock; on SQLite the one
// connection does. The same for the reservation a card row makes with the
// read of its slot (CardSlotReserving).
func TestReserveCardWaitsForTheCaseLock(t *testing.T) {
	reserves := map[string]func(s *store.Store, caseID, row int64) (reserved, newer bool, err error){
		"ReserveCard": func(s *store.Store, caseID, _ int64) (bool, bool, error) {
			reserved, err := s.ReserveCard(context.Background(), caseID, "slack", "C0LETTINGS", t0)
			return reserved, false, err
		},
		"CardSlotReserving": func(s *store.Store, caseID, row int64) (bool, bool, error) {
			_, newer, reserved, _, err := s.CardSlotReserving(context.Background(), caseID, "slack", "chat.card.slack", row, "card:1", t0, false)
			return reserved, newer, err
		},
	}
	for name, reserve := range reserves {
		t.Run(name, func(t *testing.T) { testReserveCardWaitsForTheCaseLock(t, reserve) })
	}
}

func testReserveCardWaitsForTheCaseLock(t *testing.T, reserve func(s *store.Store, caseID, row int64) (reserved, newer bool, err error)) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900123", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &c); err != nil {
			t.Fatal(err)
		}
		first, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "card:1", CaseID: c.ID}, t0)
		if err != nil {
			t.Fatal(err)
		}
		locked, commit, committed := make(chan struct{}), make(chan struct{}), make(chan int64, 1)
		go func() {
			var refresh int64
			err := s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.LockCaseOnce(ctx, c.ID); err != nil {
					return err
				}
				var err error
				refresh, _, err = tx.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "card:2", CaseID: c.ID}, t0)
				close(locked)
				<-commit
				return err
			})
			if err != nil {
				t.Error(err)
			}
			committed <- refresh
		}()
		<-locked
		reserved, newer := make(chan bool, 1), false
		go func() {
			ok, n, err := reserve(s, c.ID, first)
			if err != nil {
				t.Error(err)
			}
			newer = n
			reserved <- ok
		}()
		waitForLockWait(t, s)
		select {
		case <-reserved:
			t.Fatal("the card was reserved while a change of its case was not committed")
		default:
		}
		close(commit)
		refresh := <-committed
		ok := <-reserved
		if newer && s.Dialect() == "sqlite" {
			// SQLite read the slot after the commit: the card is the newer
			// row's to post, rendered after it.
			return
		}
		if !ok {
			t.Fatalf("not reserved (newer %v)", newer)
		}
		card, err := s.CardFor(ctx, c.ID, "slack")
		if err != nil {
			t.Fatal(err)
		}
		// SQLite ran the reservation after the commit; PostgreSQL took its
		// snapshot before the wait, so it names the row before: either way
		// the card, rendered after the reservation, shows both changes.
		want := refresh
		if s.Dialect() == "postgres" {
			want = first
		}
		if card.OutboxSeen != want {
			t.Errorf("outbox seen = %d, want %d (rows %d, then %d)", card.OutboxSeen, want, first, refresh)
		}
	})
}

// waitForLockWait returns once the reservation is seen waiting: on
// PostgreSQL for a row lock, on SQLite for the store's one connection.
func waitForLockWait(t *testing.T, s *store.Store) {
	t.Helper()
	if s.Dialect() == "postgres" {
		storetest.WaitForLockWait(t, s, "%INSERT INTO cards%")
		return
	}
	waitFor(t, "the reservation waits for the connection", func() bool { return s.ConnWaitingAll() > 0 })
}

// BeginChatPost starts a post's record in one statement the first time, and
// afterwards returns the first attempt's record, unchanged.
func TestBeginChatPost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		counter := s.CountStatements()
		if prev, first, err := s.BeginChatPost(ctx, "slack", "card:7", 3, t0); err != nil || !first || prev.Key != "" {
			t.Fatalf("first attempt: %+v %v %v, want a new record", prev, first, err)
		}
		if n := counter.Total(); n != 1 {
			t.Errorf("a first attempt took %d statements, want 1", n)
		}
		prev, first, err := s.BeginChatPost(ctx, "slack", "card:7", 4, t0.Add(time.Minute))
		if err != nil || first || !prev.StartedAt.Equal(t0) || prev.MessageID != "" {
			t.Fatalf("second attempt: %+v %v %v, want the first attempt's record", prev, first, err)
		}
		if err := s.SaveChatPost(ctx, "slack", "card:7", "C0LETTINGS", "1.2"); err != nil {
			t.Fatal(err)
		}
		if prev, first, err := s.BeginChatPost(ctx, "slack", "card:7", 5, t0.Add(2*time.Minute)); err != nil || first || prev.MessageID != "1.2" || prev.Channel != "C0LETTINGS" {
			t.Fatalf("after the post: %+v %v %v, want where it landed", prev, first, err)
		}
	})
}

// A card's reservation records its post's first attempt with it: one
// worker reserves and begins; another is refused while the reservation is
// fresh; one taking over a dead worker's reservation finds that worker's
// attempt (begun false), so it looks for its post before posting.
func TestReserveCardPost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		key := "card:1"
		reserved, begun, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", key, t0)
		if err != nil || !reserved || !begun {
			t.Fatalf("first: reserved %v begun %v (%v), want both", reserved, begun, err)
		}
		if p, err := s.ChatPostFor(ctx, "slack", key); err != nil || p.InFlightAt == nil || !p.StartedAt.Equal(t0) {
			t.Errorf("the attempt recorded: %+v (%v)", p, err)
		}
		if reserved, begun, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", key, t0.Add(time.Second)); err != nil || reserved || begun {
			t.Errorf("while fresh: reserved %v begun %v (%v), want neither", reserved, begun, err)
		}
		if reserved, begun, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", key, t0.Add(2*time.Minute)); err != nil || !reserved || begun {
			t.Errorf("taking over: reserved %v begun %v (%v), want reserved, not begun", reserved, begun, err)
		}
	})
}

// A card row's slot read reserves the card's first post when the card is
// not posted, no newer row of its kind waits and no other worker's fresh
// reservation holds it, and records the post's first attempt with it.
func TestCardSlotReserving(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		const kind, key = "chat.card.slack", "card:1"
		row, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: "card:a", CaseID: c.ID}, t0)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, at time.Time, wantReserved, wantBegun, wantNewer bool) store.CardSlot {
			t.Helper()
			slot, newer, reserved, begun, err := s.CardSlotReserving(ctx, c.ID, "slack", kind, row, key, at, false)
			if err != nil || reserved != wantReserved || begun != wantBegun || newer != wantNewer {
				t.Errorf("%s: reserved %v begun %v newer %v (%v), want %v %v %v", what, reserved, begun, newer, err, wantReserved, wantBegun, wantNewer)
			}
			if slot.LineNumber != c.LineNumber {
				t.Errorf("%s: slot %+v, want the case's line", what, slot)
			}
			return slot
		}
		check("first", t0, true, true, false)
		if p, err := s.ChatPostFor(ctx, "slack", key); err != nil || p.InFlightAt == nil || !p.StartedAt.Equal(t0) {
			t.Errorf("the attempt recorded: %+v (%v)", p, err)
		}
		check("while another's reservation is fresh", t0.Add(time.Second), false, false, false)
		check("taking over a stale one", t0.Add(2*time.Minute), true, false, false)
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: "card:b", CaseID: c.ID}, t0); err != nil {
			t.Fatal(err)
		}
		check("a newer row waits", t0.Add(4*time.Minute), false, false, true)
		if err := s.SaveCardPost(ctx, "slack", key, c.ID, "C1", "1.0001"); err != nil {
			t.Fatal(err)
		}
		row += 1000 // no newer row now
		if slot := check("posted", t0.Add(6*time.Minute), false, false, false); slot.Card.MessageID != "1.0001" || slot.Card.Channel != "C1" {
			t.Errorf("posted: the slot's card %+v, want 1.0001 in C1", slot.Card)
		}
	})
}

// A refresh's slot read reads the case as its card shows it in the same
// statement (CardSlot.Case, as CaseForCard reads it); without withCase it
// reads no case.
func TestCardSlotReadsTheCaseItsRefreshShows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		const kind, key = "chat.card.slack", "card:1"
		if reserved, _, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", key, t0); err != nil || !reserved {
			t.Fatalf("reserve: %v %v", reserved, err)
		}
		if err := s.SaveCardPost(ctx, "slack", key, c.ID, "C1", "1.0001"); err != nil {
			t.Fatal(err)
		}
		status := "delivered"
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.TouchCaseLater(ctx, c.ID, &status, t0.Add(time.Minute)) }); err != nil {
			t.Fatal(err)
		}
		slot, newer, reserved, _, err := s.CardSlotReserving(ctx, c.ID, "slack", kind, 1, key, t0.Add(time.Minute), true)
		if err != nil || newer || reserved || slot.Card.MessageID != "1.0001" {
			t.Fatalf("slot %+v newer %v reserved %v (%v), want the posted card", slot, newer, reserved, err)
		}
		want, err := s.CaseForCard(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if slot.Case == nil || !reflect.DeepEqual(*slot.Case, want) {
			t.Errorf("the slot's case %+v, want it as CaseForCard reads it: %+v", slot.Case, want)
		}
		if slot.Case != nil && slot.Case.TextbackStatus != status {
			t.Errorf("the slot's case shows the text-back %q, want %q", slot.Case.TextbackStatus, status)
		}
		if slot, _, _, _, err := s.CardSlotReserving(ctx, c.ID, "slack", kind, 1, key, t0.Add(time.Minute), false); err != nil || slot.Case != nil {
			t.Errorf("without withCase: the slot's case %+v (%v), want none read", slot.Case, err)
		}
	})
}

// A first card's post is saved, the card recorded and its outbox row
// marked done together (PostgreSQL; SQLite leaves the row to the worker);
// a claim taken over meanwhile leaves the row to its new worker, and the
// post and the card are saved all the same.
func TestSaveCardPostDone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, current := range []bool{true, false} {
			c := callerCase(t, s, fmt.Sprintf("+44770090000%d", i+1))
			key := fmt.Sprintf("card:%d", c.ID)
			if reserved, _, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", key, t0); err != nil || !reserved {
				t.Fatalf("reserve: %v %v", reserved, err)
			}
			enqueue(t, s, key, t0)
			its, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w1", Now: t0, Lease: time.Minute, Limit: 1})
			if err != nil || len(its) != 1 {
				t.Fatalf("claim: %d rows (%v)", len(its), err)
			}
			it := its[0]
			if !current {
				it.ClaimSeq-- // an earlier claim of the row: its worker lost it
			}
			done, err := s.SaveCardPostDone(ctx, "slack", key, c.ID, "C1", "1700000000.000100", it, t0)
			marks := current && s.Dialect() == "postgres"
			if err != nil || done != marks {
				t.Errorf("claim current %v: done %v (%v)", current, done, err)
			}
			if card, err := s.CardFor(ctx, c.ID, "slack"); err != nil || card.MessageID != "1700000000.000100" || card.Channel != "C1" {
				t.Errorf("claim current %v: card %+v (%v), want the post", current, card, err)
			}
			if p, err := s.ChatPostFor(ctx, "slack", key); err != nil || p.MessageID != "1700000000.000100" || p.InFlightAt != nil {
				t.Errorf("claim current %v: post %+v (%v), want saved", current, p, err)
			}
			row, err := s.OutboxByKey(ctx, key)
			if want := map[bool]string{true: store.OutboxDone, false: store.OutboxRunning}[marks]; err != nil || row.State != want {
				t.Errorf("claim current %v: row %q (%v), want %q", current, row.State, err, want)
			}
		}
	})
}

// A thread entry's first attempt is recorded as its card's slot is read,
// once the card is posted: before that there is no thread to post in (the
// entry posts the card first), and a second read finds the attempt begun.
func TestCardSlotBeginning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		const key = "entry:7"
		slot, begun, err := s.CardSlotBeginning(ctx, c.ID, "slack", key, 7, t0)
		if err != nil || begun || slot.Card.MessageID != "" || slot.LineNumber != c.LineNumber {
			t.Fatalf("no card yet: slot %+v begun %v (%v), want the line, no card, not begun", slot, begun, err)
		}
		if _, err := s.ChatPostFor(ctx, "slack", key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("no card yet: the entry's attempt is recorded (%v)", err)
		}
		if reserved, err := s.ReserveCard(ctx, c.ID, "slack", "C1", t0); err != nil || !reserved {
			t.Fatalf("reserve: %v %v", reserved, err)
		}
		if _, begun, err := s.CardSlotBeginning(ctx, c.ID, "slack", key, 7, t0); err != nil || begun {
			t.Errorf("card reserved, not posted: begun %v (%v), want not begun", begun, err)
		}
		if err := s.SaveCard(ctx, c.ID, "slack", "C1", "1700000000.000100"); err != nil {
			t.Fatal(err)
		}
		slot, begun, err = s.CardSlotBeginning(ctx, c.ID, "slack", key, 7, t0.Add(time.Second))
		if err != nil || !begun || slot.Card.MessageID != "1700000000.000100" || slot.Card.Channel != "C1" {
			t.Fatalf("card posted: slot %+v begun %v (%v), want the card, begun", slot, begun, err)
		}
		if p, err := s.ChatPostFor(ctx, "slack", key); err != nil || p.InFlightAt == nil || !p.StartedAt.Equal(t0.Add(time.Second)) {
			t.Errorf("the attempt recorded: %+v (%v)", p, err)
		}
		if _, begun, err := s.CardSlotBeginning(ctx, c.ID, "slack", key, 7, t0.Add(2*time.Second)); err != nil || begun {
			t.Errorf("again: begun %v (%v), want not begun (an earlier attempt)", begun, err)
		}
	})
}

// A first card's post, saved with its row's end, claims on PostgreSQL the
// case's first thread entry for the same worker (OutboxPass): claimed as a
// claim would (running, attempt 1, claim 1, its worker), and only then: not
// an entry not yet due, not one behind an earlier entry still to run, not
// when the card's claim was lost. SQLite passes nothing: its worker claims.
func TestSaveCardPostPassing(t *testing.T) {
	cases := []struct {
		name          string
		entries       []time.Duration // their due times after t0
		claimCurrent  bool
		olderRunning  bool
		wantPassedKey string
	}{
		{"no entry", nil, true, false, ""},
		{"the first entry", []time.Duration{0, 0}, true, false, "entry:0"},
		{"an entry not due", []time.Duration{time.Minute}, true, false, ""},
		{"a lost claim", []time.Duration{0}, false, false, ""},
		{"behind a running entry", []time.Duration{0}, true, true, ""},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, tc := range cases {
			c := callerCase(t, s, fmt.Sprintf("+44770090001%d", i))
			key := fmt.Sprintf("card:%d", c.ID)
			if reserved, _, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", key, t0); err != nil || !reserved {
				t.Fatalf("%s: reserve: %v %v", tc.name, reserved, err)
			}
			write := func(kind, key string, runAt time.Time) {
				err := s.InTx(ctx, func(tx *store.Tx) error {
					_, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: key, Payload: key, CaseID: c.ID, RunAt: runAt}, t0)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.olderRunning {
				write("chat.thread.slack", fmt.Sprintf("entry:older:%d", c.ID), t0)
				if _, err := s.DB().Exec(s.DB().Rebind(`UPDATE outbox SET state = 'running', claim_seq = 1, locked_by = 'w2' WHERE dedupe_key = ?`), fmt.Sprintf("entry:older:%d", c.ID)); err != nil {
					t.Fatal(err)
				}
			}
			// The rows of the cases before are out of the way.
			if _, err := s.DB().Exec(s.DB().Rebind(`UPDATE outbox SET state = 'done' WHERE case_id <> ?`), c.ID); err != nil {
				t.Fatal(err)
			}
			write("chat.card.slack", key, t0)
			its, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w1", Now: t0, Lease: time.Minute, Limit: 10, Lanes: []string{"slack"}})
			if err != nil || len(its) != 1 || its[0].DedupeKey != key {
				t.Fatalf("%s: claim: %+v (%v), want the card's row", tc.name, its, err)
			}
			it := its[0]
			for j, d := range tc.entries {
				write("chat.thread.slack", fmt.Sprintf("entry:%d:%d", j, c.ID), t0.Add(d))
			}
			if !tc.claimCurrent {
				it.ClaimSeq--
			}
			pd, err := s.SaveCardPostPassing(ctx, "slack", key, c.ID, "C1", "1700000000.000100", it, t0,
				&store.OutboxPass{Worker: "w1", Lease: time.Minute, Kind: "chat.thread.slack", Behind: []string{"chat.card.slack", "chat.thread.slack"}})
			next := pd.Next
			pg := s.Dialect() == "postgres"
			if err != nil || pd.Done != (tc.claimCurrent && pg) {
				t.Errorf("%s: done %v (%v)", tc.name, pd.Done, err)
			}
			// Rows wait behind the card but for the one passed (SQLite
			// cannot tell: it says some may).
			if want := !pg || len(tc.entries) > 1 || tc.olderRunning || len(tc.entries) == 1 && tc.wantPassedKey == ""; pd.Waiting != want {
				t.Errorf("%s: waiting %v, want %v", tc.name, pd.Waiting, want)
			}
			if card, err := s.CardFor(ctx, c.ID, "slack"); err != nil || card.MessageID != "1700000000.000100" {
				t.Errorf("%s: card %+v (%v), want the post", tc.name, card, err)
			}
			want := ""
			if pg && tc.wantPassedKey != "" {
				want = fmt.Sprintf("%s:%d", tc.wantPassedKey, c.ID)
			}
			switch {
			case want == "" && next != nil:
				t.Errorf("%s: passed %+v, want none", tc.name, *next)
			case want != "" && (next == nil || next.DedupeKey != want || next.State != store.OutboxRunning || next.Attempts != 1 ||
				next.ClaimSeq != 1 || next.LockedBy != "w1" || next.Kind != "chat.thread.slack"):
				t.Errorf("%s: passed %+v, want %s claimed by w1", tc.name, next, want)
			}
			var running []string
			if err := s.DB().Select(&running, s.DB().Rebind(`SELECT dedupe_key FROM outbox WHERE case_id = ? AND kind = 'chat.thread.slack' AND state = 'running' AND locked_by = 'w1'`), c.ID); err != nil {
				t.Fatal(err)
			}
			if (want == "") != (len(running) == 0) {
				t.Errorf("%s: entries running for w1: %q, want %q", tc.name, running, want)
			}
		}
	})
}

// A thread entry's post, saved with its row's end, passes the case's next
// entry on to the same worker on PostgreSQL, and says whether any other
// waits: the last one ends the case's line, and no claim need look.
func TestSaveChatPostPassing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, _, first := threadOfPostedCard(t, s, "+447700900031", "entry:0", "entry:1")
		pass := &store.OutboxPass{Worker: "w1", Lease: time.Minute, Kind: "chat.thread.slack", Behind: []string{"chat.thread.slack"}}
		pg := s.Dialect() == "postgres"
		pd, err := s.SaveChatPostPassing(ctx, "slack", "entry:0", "C1", "1.0002", first, t0, pass)
		if err != nil || !pd.Done {
			t.Fatalf("the first entry: %+v (%v), want done", pd, err)
		}
		if !pg {
			if pd.Next != nil || !pd.Waiting {
				t.Errorf("SQLite passed %+v, want nothing passed and rows said to wait", pd)
			}
			return
		}
		if pd.Next == nil || pd.Next.DedupeKey != "entry:1" || pd.Next.LockedBy != "w1" || pd.Next.ClaimSeq != 1 || pd.Waiting {
			t.Fatalf("the first entry passed %+v, want entry:1 claimed by w1 and none left waiting", pd)
		}
		pd, err = s.SaveChatPostPassing(ctx, "slack", "entry:1", "C1", "1.0003", *pd.Next, t0, pass)
		if err != nil || !pd.Done || pd.Next != nil || pd.Waiting {
			t.Errorf("the last entry: %+v (%v), want done, nothing passed or waiting", pd, err)
		}
	})
}

// A statement passing a case's next thread entry on records, on
// PostgreSQL, that entry's first attempt (OutboxPass.Begin), so its worker
// posts with no statement before: under the entry's key (its payload's, or
// its row id), in flight, and durably — the commit waits for its WAL, the
// settle's lazy commit notwithstanding. An edit posts nothing new, and an
// entry an earlier attempt began is left to its worker. SQLite passes
// nothing.
func TestPassingBeginsTheThreadPost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pg := storetest.NoteCommitSync(t, s, "INSERT", "chat_posts", "post_key")
		payloads := []any{map[string]any{}, map[string]any{"key": "sms:5"}, map[string]any{},
			map[string]any{"key": "sms:5", "edit": true}, map[string]any{"key": "begun"}}
		c, ids, it := threadOfPostedCard(t, s, "+447700900041", payloads...)
		if _, _, err := s.BeginChatPost(ctx, "slack", "entry:begun", ids[4], t0); err != nil {
			t.Fatal(err)
		}
		card := store.Card{CaseID: c.ID, Platform: "slack", Channel: "C1", MessageID: "1.0001"}
		pass := &store.OutboxPass{Worker: "w1", Lease: time.Minute, Kind: "chat.thread.slack", Behind: []string{"chat.thread.slack"},
			Begin: &store.PassBegin{Platform: "slack", Card: card, Prefix: "entry:", KeyField: "key", SkipField: "edit"}}
		wantKeys := []string{"entry:sms:5", fmt.Sprintf("entry:%d", ids[2]), "", ""}
		for i, want := range wantKeys {
			at := t0.Add(time.Duration(i+1) * time.Second)
			pd, err := s.SaveChatPostPassing(ctx, "slack", fmt.Sprintf("posted:%d", i), "C1", fmt.Sprintf("1.000%d", i+2), it, at, pass)
			if err != nil || !pd.Done {
				t.Fatalf("entry %d: %+v (%v), want done", i, pd, err)
			}
			if !pg {
				if pd.Next != nil {
					t.Errorf("SQLite passed %+v, want nothing", *pd.Next)
				}
				return
			}
			if pd.Next == nil || pd.Next.ID != ids[i+1] {
				t.Fatalf("entry %d passed %+v, want row %d", i, pd.Next, ids[i+1])
			}
			it = *pd.Next
			switch {
			case want == "" && it.Posting != nil:
				t.Errorf("row %d (%v): begun %+v, want its post left to its worker", it.ID, payloads[i+1], *it.Posting)
			case want != "" && (it.Posting == nil || it.Posting.Key != want || it.Posting.Card != card):
				t.Errorf("row %d (%v): begun %+v, want %s in the card's thread", it.ID, payloads[i+1], it.Posting, want)
			case want != "":
				p, err := s.ChatPostFor(ctx, "slack", want)
				if err != nil || p.MessageID != "" || p.InFlightAt == nil || !p.InFlightAt.Equal(at) || !p.StartedAt.Equal(at) {
					t.Errorf("%s: recorded %+v (%v), want in flight since %v", want, p, err, at)
				}
				var sync string
				if err := s.DB().Get(&sync, `SELECT sync FROM commit_sync WHERE key = $1`, want); err != nil || sync != "on" {
					t.Errorf("%s: committed with synchronous_commit %q (%v), want on: the record must be on disk before the post", want, sync, err)
				}
			}
		}
		var begun []string
		if err := s.DB().Select(&begun, `SELECT post_key FROM chat_posts WHERE post_key LIKE 'entry:%' ORDER BY post_key`); err != nil {
			t.Fatal(err)
		}
		if want := []string{fmt.Sprintf("entry:%d", ids[2]), "entry:begun", "entry:sms:5"}; !slices.Equal(begun, want) {
			t.Errorf("posts begun %q, want %q (none for the edit)", begun, want)
		}
		if p, err := s.ChatPostFor(ctx, "slack", "entry:begun"); err != nil || !p.StartedAt.Equal(t0) {
			t.Errorf("the earlier attempt's record %+v (%v), want it as it was", p, err)
		}
	})
}

// threadOfPostedCard writes a new case of caller with a thread entry row
// per payload (dedupe keys entry:0, entry:1, …), posts its card on slack
// (C1, 1.0001), and claims the first entry for w1.
func threadOfPostedCard(t *testing.T, s *store.Store, caller string, payloads ...any) (c store.Case, ids []int64, first store.OutboxItem) {
	t.Helper()
	ctx := context.Background()
	c = callerCase(t, s, caller)
	for i, p := range payloads {
		err := s.InTx(ctx, func(tx *store.Tx) error {
			id, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: "chat.thread.slack", DedupeKey: fmt.Sprintf("entry:%d", i), Payload: p, CaseID: c.ID, RunAt: t0}, t0)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if reserved, err := s.ReserveCard(ctx, c.ID, "slack", "C1", t0); err != nil || !reserved {
		t.Fatalf("reserve: %v %v", reserved, err)
	}
	if err := s.SaveCard(ctx, c.ID, "slack", "C1", "1.0001"); err != nil {
		t.Fatal(err)
	}
	its, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w1", Now: t0, Lease: time.Minute, Limit: 10})
	if err != nil || len(its) != 1 || its[0].ID != ids[0] {
		t.Fatalf("claim: %+v (%v), want the first entry only", its, err)
	}
	return c, ids, its[0]
}

// A card's first post waits, at its reservation, for a transaction that
// touched its case (TouchCaseLater: a text's acceptance, a receipt) to end,
// so that the card rendered after the reservation shows that change and
// the refresh the change queued may be skipped. An UPDATE alone locks the
// row in a mode the reservation's foreign key check does not wait for:
// without the touch's own lock the card was posted without the change, and
// its refresh skipped (the chaos run's cards not showing a receipt).
func TestReservationWaitsForATouchOfItsCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if s.Dialect() != "postgres" {
			return // SQLite's transactions write one at a time
		}
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		status := "delivered"
		err := whileHolding(t, s, "%INSERT INTO cards%", func(tx *store.Tx) error {
			if err := tx.TouchCaseLater(ctx, c.ID, &status, t0.Add(time.Minute)); err != nil {
				return err
			}
			_, err := tx.CaseByID(ctx, c.ID) // names cases: the touch is made now
			return err
		}, func() error {
			_, _, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", "card:1", t0.Add(time.Minute))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := s.CaseForCard(ctx, c.ID)
		if err != nil || cc.TextbackStatus != "delivered" {
			t.Errorf("the case rendered after the reservation shows %q (%v), want the touch's delivered", cc.TextbackStatus, err)
		}
	})
}

// A change of a case made at the commit (TouchCaseLater, as a text's
// outcome is) locks the case before its card row takes an id, as one made
// at once does (LockCaseOnce). Were the id drawn first, a row of another
// transaction committed while this one waits for the case would be newer
// than it: a card reserved in that moment records that row as seen,
// renders the case without this change, and skips this change's refresh,
// leaving the card showing the text as it was. SQLite writes one
// transaction at a time: no row is written while another waits.
func TestCaseChangedAtTheCommitIsLockedBeforeItsCardRowTakesAnID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if s.Dialect() != "postgres" {
			return
		}
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		other := callerCase(t, s, "+447700900002")
		var meanwhile int64
		err := whileHoldingThen(t, s, "%UPDATE cases SET textback_status%", func(tx *store.Tx) error {
			_, err := tx.LockCase(ctx, c.ID)
			return err
		}, func() error {
			return s.InTx(ctx, func(tx *store.Tx) error {
				status := "delivered"
				if err := tx.TouchCaseLater(ctx, c.ID, &status, t0); err != nil {
					return err
				}
				return tx.EnqueueLater(store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "card:delivered", CaseID: c.ID}, t0)
			})
		}, func() {
			var err error
			meanwhile, _, err = s.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "card:other", CaseID: other.ID}, t0)
			if err != nil {
				t.Error(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		it, err := s.OutboxByKey(ctx, "card:delivered")
		if err != nil {
			t.Fatal(err)
		}
		if row := it.ID; row < meanwhile {
			t.Errorf("the card row of the change is %d, older than row %d committed while it waited for its case", row, meanwhile)
		}
		if got, err := s.CaseByID(ctx, c.ID); err != nil || got.TextbackStatus != "delivered" {
			t.Errorf("case after the commit: %q (%v), want delivered", got.TextbackStatus, err)
		}
	})
}

// A card row that waits unclaimed, such as a render queued for after an
// unanswered call (due 30 s later), may be pulled forward to stand for a
// later change (Coalesce); were it skipped as shown when it runs, that change
// would never reach the card. So a reservation does not count such a row as
// seen, and a change is not folded into a row the card has seen (a
// reservation whose snapshot did not hold the row records it so): the change
// gets a row of its own.
func TestAChangeIsNotCoalescedIntoARowItsCardHasSeen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		const kind = "chat.card.slack"
		first, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: "card:opened", CaseID: c.ID}, t0)
		if err != nil {
			t.Fatal(err)
		}
		after, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: "card:after", CaseID: c.ID, RunAt: t0.Add(30 * time.Second)}, t0)
		if err != nil {
			t.Fatal(err)
		}
		// Another case's row, newer: the newest the reservation sees.
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: "card:other", CaseID: callerCase(t, s, "+447700900002").ID}, t0); err != nil {
			t.Fatal(err)
		}
		// The first row reserves the card (the later row is due later: it
		// does not stand for this one) and posts it.
		_, newer, reserved, _, err := s.CardSlotReserving(ctx, c.ID, "slack", kind, first, "card:1", t0, false)
		if err != nil || newer || !reserved {
			t.Fatalf("reserving: newer %v reserved %v (%v), want reserved", newer, reserved, err)
		}
		if err := s.SaveCardPost(ctx, "slack", "card:1", c.ID, "C0LETTINGS", "1.2"); err != nil {
			t.Fatal(err)
		}
		card, err := s.CardFor(ctx, c.ID, "slack")
		if err != nil || card.OutboxSeen >= after || card.OutboxSeen < first {
			t.Fatalf("card %+v (%v): want rows from %d up to before the waiting %d seen", card, err, first, after)
		}
		// A reservation whose snapshot missed the waiting row's commit
		// counts it as seen (its id is below the newest row it saw).
		if _, err := s.DB().Exec(s.DB().Rebind(`UPDATE cards SET outbox_seen = ? WHERE case_id = ?`), after, c.ID); err != nil {
			t.Fatal(err)
		}
		// The text-back is delivered: its card row coalesces.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			status := "delivered"
			if err := tx.TouchCaseLater(ctx, c.ID, &status, t0.Add(time.Second)); err != nil {
				return err
			}
			return tx.EnqueueLater(store.NewOutbox{Kind: kind, DedupeKey: "card:delivered", CaseID: c.ID, Coalesce: true}, t0.Add(time.Second))
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.CaseOutbox(ctx, c.ID, kind)
		if err != nil {
			t.Fatal(err)
		}
		var renders, waiting []int64
		for _, w := range rows {
			if w.State != "pending" {
				continue
			}
			waiting = append(waiting, w.ID)
			if w.RunAt.After(t0.Add(time.Second)) {
				t.Errorf("row %d waits till %v: the change is due at once", w.ID, w.RunAt)
			}
			if w.ID > after {
				renders = append(renders, w.ID)
			}
		}
		if len(renders) != 1 {
			t.Errorf("rows that will render the change: %v of the waiting %v, want one newer than the %d the card has seen", renders, waiting, after)
		}
	})
}
