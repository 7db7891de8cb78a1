package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// TestStatementsPreparedOnBothEngines: a statement asked for again runs
// prepared, on SQLite as on PostgreSQL, inside a transaction and outside.
func TestStatementsPreparedOnBothEngines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		deadline := time.Now().Add(10 * time.Second)
		for s.Prepared() == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no statement prepared after asking for one repeatedly", s.Dialect())
			}
			if _, err := s.OutboxCounts(ctx); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		enqueue(t, s, "a", t0)
		err := s.InTx(ctx, func(tx *store.Tx) error {
			counts, err := tx.OutboxCounts(ctx)
			if err == nil && counts[store.OutboxPending] != 1 {
				t.Errorf("pending in a transaction = %d, want 1", counts[store.OutboxPending])
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if counts, err := s.OutboxCounts(ctx); err != nil || counts[store.OutboxPending] != 1 {
			t.Fatalf("pending = %v (%v), want 1", counts, err)
		}
	})
}
