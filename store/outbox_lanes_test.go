package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// claimKinds claims every due slack row and returns their kinds.
func claimKinds(t *testing.T, s *store.Store) []store.OutboxItem {
	t.Helper()
	items, err := s.ClaimOutbox(context.Background(), store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 10, Lanes: []string{store.LaneSlack}})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// A thread entry whose case has no card yet is not claimed while the
// card's row is to run: it would race that row for the card's reservation.
// Once the card is posted it goes, with no attempt spent on waiting.
func TestOutboxThreadEntryWaitsForTheFirstCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		for _, kind := range []string{"chat.card.slack", "chat.thread.slack"} {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: kind, Payload: 1, CaseID: c.ID}, t0); err != nil {
				t.Fatal(err)
			}
		}
		got := claimKinds(t, s)
		if len(got) != 1 || got[0].Kind != "chat.card.slack" {
			t.Fatalf("claimed %v, want the card row alone", kinds(got))
		}
		card := got[0]
		if _, err := s.ReserveCard(ctx, c.ID, "slack", "C1", t0); err != nil {
			t.Fatal(err)
		}
		if got := claimKinds(t, s); len(got) != 0 {
			t.Fatalf("claimed %v while the card is being posted, want nothing", kinds(got))
		}
		if err := s.SaveCard(ctx, c.ID, "slack", "C1", "1700000000.000100"); err != nil {
			t.Fatal(err)
		}
		if held, err := s.CompleteOutbox(ctx, card, t0); err != nil || !held {
			t.Fatalf("complete the card row: %v %v", held, err)
		}
		got = claimKinds(t, s)
		if len(got) != 1 || got[0].Kind != "chat.thread.slack" || got[0].Attempts != 1 {
			t.Fatalf("claimed %+v, want the thread entry on its first attempt", got)
		}
		// A card already posted holds no entry back, even with a refresh to run.
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "chat.card.slack", DedupeKey: "refresh", Payload: 1, CaseID: c.ID}, t0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "chat.thread.slack", DedupeKey: "entry2", Payload: 1, CaseID: c.ID}, t0); err != nil {
			t.Fatal(err)
		}
		if held, err := s.CompleteOutbox(ctx, got[0], t0); err != nil || !held {
			t.Fatalf("complete the entry: %v %v", held, err)
		}
		if got := claimKinds(t, s); len(got) != 2 {
			t.Fatalf("claimed %v, want the refresh and the second entry", kinds(got))
		}
	})
}

func kinds(items []store.OutboxItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%d:%s", it.ID, it.Kind))
	}
	return out
}
