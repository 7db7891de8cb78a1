package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// callerCase stores an open case of caller on the test line at t0.
func callerCase(t *testing.T, s *store.Store, caller string) store.Case {
	t.Helper()
	c := store.Case{LineNumber: "+441632960001", CallerNumber: caller, State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
	if _, err := s.InsertCase(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// A link is found by its hash alone, for its own case, and counts its picks.
func TestCallbackLinkByHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b := callerCase(t, s, "+447700900001"), callerCase(t, s, "+447700900002")
		la := store.CallbackLink{CaseID: a.ID, Hash: "aa11", CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour)}
		lb := store.CallbackLink{CaseID: b.ID, Hash: "bb22", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		for _, l := range []*store.CallbackLink{&la, &lb} {
			if err := s.InsertCallbackLink(ctx, *l); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.InsertCallbackLink(ctx, store.CallbackLink{CaseID: b.ID, Hash: "aa11", CreatedAt: t0, ExpiresAt: t0}); err == nil {
			t.Error("a second link with a hash already used was stored")
		}
		got, err := s.CallbackLinkByHash(ctx, "bb22")
		if err != nil || got.CaseID != b.ID || !got.ExpiresAt.Equal(t0.Add(time.Hour)) || got.Picks != 0 {
			t.Fatalf("link bb22 = %+v, %v", got, err)
		}
		if _, err := s.CallbackLinkByHash(ctx, "cc33"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown hash: %v, want ErrNotFound", err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			l, err := tx.CallbackLinkByHash(ctx, "aa11")
			if err != nil {
				return err
			}
			return tx.UseCallbackLink(ctx, l.ID, t0.Add(time.Minute))
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.CallbackLinkByHash(ctx, "aa11"); got.Picks != 1 || got.UsedAt == nil || !got.UsedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("after a pick: %+v", got)
		}
	})
}

// A slot with a capacity takes that many callers; picking again moves the
// caller's place; a closed case gives its place back.
func TestCallbackRequestCapacity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot, other := t0.Add(24*time.Hour), t0.Add(25*time.Hour)
		pick := func(c store.Case, at time.Time, capacity int) error {
			return s.InTx(ctx, func(tx *store.Tx) error {
				r := store.CallbackRequest{CaseID: c.ID, LineNumber: c.LineNumber, SlotAt: at, Category: "maintenance", Note: "tap", Picks: 1, PickedAt: t0}
				return tx.SaveCallbackRequest(ctx, &r, capacity)
			})
		}
		a, b, c := callerCase(t, s, "+447700900001"), callerCase(t, s, "+447700900002"), callerCase(t, s, "+447700900003")
		if err := pick(a, slot, 2); err != nil {
			t.Fatal(err)
		}
		if err := pick(b, slot, 2); err != nil {
			t.Fatal(err)
		}
		if err := pick(c, slot, 2); !errors.Is(err, store.ErrSlotFull) {
			t.Fatalf("third caller in a slot of 2: %v, want ErrSlotFull", err)
		}
		if _, err := s.CallbackRequestFor(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused pick was stored: %v", err)
		}
		taken, err := s.CallbackSlotsTaken(ctx, a.LineNumber, t0, t0.Add(48*time.Hour), c.ID)
		if err != nil || taken[slot] != 2 {
			t.Errorf("taken = %v, %v; want 2 at %s", taken, err, slot)
		}
		// a moves: its place in the slot is free for c.
		if err := pick(a, other, 2); err != nil {
			t.Fatal(err)
		}
		if r, err := s.CallbackRequestFor(ctx, a.ID); err != nil || !r.SlotAt.Equal(other) || r.Category != "maintenance" || r.Note != "tap" {
			t.Errorf("a's request = %+v, %v", r, err)
		}
		if err := pick(c, slot, 2); err != nil {
			t.Fatalf("c after a moved: %v", err)
		}
		// b's case closes: its place is c's… or anyone's.
		b.State, b.UpdatedAt = store.CaseClosed, t0
		if err := s.UpdateCase(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := pick(a, slot, 2); err != nil {
			t.Errorf("a into the place of a closed case: %v", err)
		}
		// Without a capacity there is no limit.
		if err := pick(b, slot, 0); err != nil {
			t.Errorf("no capacity: %v", err)
		}
	})
}

// Two callers picking the last place at once: exactly one gets it.
func TestCallbackRequestLastPlaceRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := t0.Add(24 * time.Hour)
		var cases []store.Case
		for _, n := range []string{"+447700900001", "+447700900002", "+447700900003", "+447700900004"} {
			cases = append(cases, callerCase(t, s, n))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(cases))
		for i, c := range cases {
			wg.Go(func() {
				errs[i] = s.InTx(ctx, func(tx *store.Tx) error {
					r := store.CallbackRequest{CaseID: c.ID, LineNumber: c.LineNumber, SlotAt: slot, Picks: 1, PickedAt: t0}
					return tx.SaveCallbackRequest(ctx, &r, 1)
				})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrSlotFull):
				t.Errorf("a loser's error: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d callers got the one place", won)
		}
	})
}
