package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// LatestEvent finds a case's newest event of a kind, and says when there
// is none.
func TestLatestEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900123", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LatestEvent(ctx, c.ID, "triaged"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no event yet: %v", err)
		}
		for i, by := range []string{"caller", "auto"} {
			if err := s.AddEvent(ctx, c.ID, t0.Add(time.Duration(i)*time.Minute), "triaged", "", map[string]string{"by": by}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddEvent(ctx, c.ID, t0.Add(time.Hour), "claimed", "U1", nil); err != nil {
			t.Fatal(err)
		}
		e, err := s.LatestEvent(ctx, c.ID, "triaged")
		if err != nil || e.Data != `{"by":"auto"}` || !e.At.Equal(t0.Add(time.Minute)) {
			t.Fatalf("latest triaged: %+v %v", e, err)
		}
	})
}
