package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// Someone away is listed until the time they said, moved by a second
// "away", and gone once back.
func TestAwayUntilBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		until := t0.Add(48 * time.Hour)
		if err := s.SetAway(ctx, "U0ALICE", t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAway(ctx, "U0ALICE", until, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAway(ctx, "U0BOB", t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		away, err := s.AwayUntil(ctx, t0.Add(2*time.Hour))
		if err != nil || len(away) != 1 || !away["U0ALICE"].Equal(until) {
			t.Fatalf("away = %v, %v; want Alice until %s only", away, err, until)
		}
		if was, err := s.ClearAway(ctx, "U0ALICE"); err != nil || !was {
			t.Fatalf("back: %v %v", was, err)
		}
		if was, _ := s.ClearAway(ctx, "U0ALICE"); was {
			t.Fatal("back twice")
		}
		if away, _ := s.AwayUntil(ctx, t0); len(away) != 1 || away["U0BOB"].IsZero() {
			t.Fatalf("after Alice is back: %v", away)
		}
	})
}

// Each rota takes its own turns, one at a time.
func TestRotaTurns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var got []int64
		for _, cat := range []string{"", "", "maintenance", ""} {
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				n, err := tx.TakeRotaTurn(ctx, "+441632960001", cat)
				got = append(got, n)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if want := []int64{0, 1, 0, 2}; len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
			t.Fatalf("turns = %v, want %v", got, want)
		}
	})
}
