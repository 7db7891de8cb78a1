package bot_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A case's thread entry waits for its first card instead of racing the
// card's row for the reservation: it starts only once the card is posted,
// on its first attempt, woken by the card's row being settled (not by the
// poll, seconds later).
func TestThreadEntryWaitsForItsCaseFirstCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900123", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &c); err != nil {
			t.Fatal(err)
		}
		clock, w := manualWorker(s)
		release := make(chan struct{})
		posted := make(chan time.Time, 1)
		entry := make(chan store.OutboxItem, 1)
		w.Handle("chat.card.slack", func(ctx context.Context, it store.OutboxItem) error {
			<-release
			if _, err := s.ReserveCard(ctx, c.ID, "slack", "C1", t0); err != nil {
				return err
			}
			posted <- time.Now()
			return s.SaveCard(ctx, c.ID, "slack", "C1", "1700000000.000100")
		})
		w.Handle("chat.thread.slack", func(ctx context.Context, it store.OutboxItem) error {
			if card, err := s.CardFor(ctx, c.ID, "slack"); err != nil || card.MessageID == "" {
				t.Errorf("the entry ran before its card was posted (%+v, %v)", card, err)
			}
			entry <- it
			return nil
		})
		for _, kind := range []string{"chat.card.slack", "chat.thread.slack"} {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: kind, Payload: 1, CaseID: c.ID}, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		go w.Run(ctx)
		select {
		case it := <-entry:
			t.Fatalf("the entry (attempt %d) started while the card's row ran", it.Attempts)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		within(t, posted, 5*time.Second, "the card was not posted")
		it := within(t, entry, time.Second, "the entry did not start within a second of its card")
		if it.Attempts != 1 {
			t.Errorf("the entry ran on attempt %d, want 1 (waiting spends none)", it.Attempts)
		}
	})
}
