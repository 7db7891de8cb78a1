package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A signed request is accepted once while its record lasts, whichever
// process asks; once expired the record is pruned.
func TestFirstRequestOnceUntilExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := func(key string, at time.Time) bool {
			t.Helper()
			ok, err := s.FirstRequest(ctx, key, at, at.Add(6*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !first("slack:1:ab", t0) || first("slack:1:ab", t0.Add(5*time.Minute)) {
			t.Fatal("a request must be new once, then seen")
		}
		if !first("discord:1:ab", t0) {
			t.Fatal("another platform's request is another request")
		}
		if !first("slack:1:ab", t0.Add(7*time.Minute)) {
			t.Fatal("an expired record must be pruned")
		}
		var n int
		if err := s.DB().Get(&n, "SELECT COUNT(*) FROM seen_requests"); err != nil || n != 1 {
			t.Fatalf("records left = %d (%v), want the fresh one only", n, err)
		}
	})
}
