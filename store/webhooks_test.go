package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// Settled webhook deliveries go once they are older than the cut; pending
// ones stay however old, so nothing still owed a receiver is forgotten.
func TestPruneWebhookDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		add := func(msg string, at time.Time, state string) int64 {
			t.Helper()
			id, err := s.AddWebhookDelivery(ctx, store.WebhookDelivery{Subscription: "crm", MessageID: msg, Type: "case.opened"}, at)
			if err != nil {
				t.Fatal(err)
			}
			if state != "pending" {
				if err := s.SettleWebhookDelivery(ctx, id, state, 200, "", at); err != nil {
					t.Fatal(err)
				}
			}
			return id
		}
		old := t0.Add(-40 * 24 * time.Hour)
		add("msg_old_delivered", old, "delivered")
		add("msg_old_failed", old, "failed")
		pending := add("msg_old_pending", old, "pending")
		recent := add("msg_recent", t0.Add(-time.Hour), "delivered")
		n, err := s.PruneWebhookDeliveries(ctx, t0.Add(-30*24*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("pruned %d, %v; want the two old settled deliveries", n, err)
		}
		for _, id := range []int64{pending, recent} {
			if _, err := s.WebhookDeliveryByID(ctx, id); err != nil {
				t.Errorf("delivery %d: %v, want it kept", id, err)
			}
		}
	})
}
