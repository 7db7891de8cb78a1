package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A statement that records what a side effect did, or ends the outbox row
// that made it, lets its transaction commit without waiting for the WAL
// flush on PostgreSQL (one flush fewer per record: issue 17); other
// writes (here, a row enqueued) still wait. Each record is still made.
func TestRecordsAfterASideEffectCommitLazily(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		if _, _, err := s.ReserveCardPost(ctx, c.ID, "slack", "C1", "card:1", t0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.BeginChatPost(ctx, "slack", "entry:1", 0, t0); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			enqueue(t, s, fmt.Sprint("row", i), t0)
		}
		items, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 5})
		if err != nil || len(items) != 5 {
			t.Fatalf("claimed %d rows (%v), want 5", len(items), err)
		}
		records := []struct {
			what   string
			record func(tx *store.Tx) (bool, error)
		}{
			{"a card's post and its row's end", func(tx *store.Tx) (bool, error) {
				done, err := tx.SaveCardPostDone(ctx, "slack", "card:1", c.ID, "C1", "1.0001", items[0], t0)
				return done || s.Dialect() == "sqlite", err // SQLite leaves the row to the worker
			}},
			{"a thread entry's post and its row's end", func(tx *store.Tx) (bool, error) {
				return tx.SaveChatPostDone(ctx, "slack", "entry:1", "C1", "1.0002", items[1], t0)
			}},
			{"a row's end", func(tx *store.Tx) (bool, error) { return tx.CompleteOutbox(ctx, items[2], t0) }},
			{"rows' ends in a batch", func(tx *store.Tx) (bool, error) {
				held, _, err := tx.CompleteOutboxBatch(ctx, items[3:4], t0)
				return held[items[3].ID], err
			}},
			{"a row's end at the commit", func(tx *store.Tx) (bool, error) {
				var done bool
				if err := tx.CompleteOutboxLater(ctx, items[4], t0, func(held bool) { done = held }); err != nil {
					return false, err
				}
				_, err := tx.OutboxCounts(ctx) // reads the outbox: the write is made first
				return done, err
			}},
		}
		for _, r := range records {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				done, err := r.record(tx)
				if err != nil {
					return err
				}
				if !done {
					t.Errorf("%s: the row was not marked done", r.what)
				}
				if s.Dialect() == "postgres" {
					if v, err := tx.Setting(ctx, "synchronous_commit"); err != nil || v != "off" {
						t.Errorf("%s: synchronous_commit = %q (%v), want off for this commit", r.what, v, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", r.what, err)
			}
		}
		want := map[string]int{"postgres": 5, "sqlite": 4}[s.Dialect()]
		if counts, err := s.OutboxCounts(ctx); err != nil || counts[store.OutboxDone] != want {
			t.Errorf("outbox %v (%v), want %d rows done", counts, err, want)
		}
		if card, err := s.CardFor(ctx, c.ID, "slack"); err != nil || card.MessageID != "1.0001" {
			t.Errorf("card %+v (%v), want posted as 1.0001", card, err)
		}
		if s.Dialect() != "postgres" {
			return
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if _, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: "test", DedupeKey: "more", Payload: 1, RunAt: t0}, t0); err != nil {
				return err
			}
			if v, err := tx.Setting(ctx, "synchronous_commit"); err != nil || v != "on" {
				t.Errorf("a row enqueued: synchronous_commit = %q (%v), want on", v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A claim commits without waiting for the WAL flush on PostgreSQL (one
// flush fewer per row claimed: issue 17): a claim lost with the database
// leaves its row to be claimed again, as one whose worker died, and its
// work is made once by the records it keeps. A claim that records texts'
// send starts (StartSends) waits: a text must not go before that record
// is on disk.
func TestClaimsCommitLazilyUnlessTheyStartSends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pg := storetest.NoteCommitSync(t, s, "UPDATE", "outbox", "dedupe_key")
		c := callerCase(t, s, "+447700900001")
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "card", CaseID: c.ID}, t0); err != nil {
			t.Fatal(err)
		}
		m := pendingTextBackOf(t, s, "+447700900002")
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "text", Payload: map[string]any{"message_id": m.ID}}, t0); err != nil {
			t.Fatal(err)
		}
		claim := func(lane, startSends string) {
			t.Helper()
			items, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 5, Lanes: []string{lane},
				StartSends: startSends, SendStartAt: t0})
			if err != nil || len(items) != 1 {
				t.Fatalf("claimed %d rows of lane %s (%v), want 1", len(items), lane, err)
			}
		}
		claim(store.LaneSlack, "")
		claim(store.LaneSMS, "sms.send")
		if !pg {
			return
		}
		for key, want := range map[string]string{"card": "off", "text": "on"} {
			var sync string
			if err := s.DB().Get(&sync, `SELECT sync FROM commit_sync WHERE key = $1`, key); err != nil || sync != want {
				t.Errorf("the claim of %s committed with synchronous_commit %q (%v), want %s", key, sync, err, want)
			}
		}
	})
}

// A transaction told to commit lazily commits without waiting for its WAL
// flush on PostgreSQL, whether its waiting writes commit alone or after
// other statements; others wait as before.
func TestCommitLazily(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pg := storetest.NoteCommitSync(t, s, "INSERT", "outbox", "dedupe_key")
		c := callerCase(t, s, "+447700900001")
		write := func(key string, lazy, read bool) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				if read {
					if _, err := tx.CaseByID(ctx, c.ID); err != nil {
						return err
					}
				}
				if lazy {
					tx.CommitLazily()
				}
				return tx.EnqueueLater(store.NewOutbox{Kind: "chat.card.slack", DedupeKey: key, CaseID: c.ID}, t0)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		write("alone lazily", true, false)
		write("alone", false, false)
		write("after a read lazily", true, true)
		write("after a read", false, true)
		for _, key := range []string{"alone lazily", "alone", "after a read lazily", "after a read"} {
			if _, err := s.OutboxByKey(ctx, key); err != nil {
				t.Fatalf("row %q: %v", key, err)
			}
		}
		if !pg {
			return
		}
		var got []string
		if err := s.DB().Select(&got, `SELECT key || ': ' || sync FROM commit_sync`); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		want := []string{"after a read lazily: off", "after a read: on", "alone lazily: off", "alone: on"}
		if !slices.Equal(got, want) {
			t.Errorf("commits %q, want %q", got, want)
		}
	})
}
