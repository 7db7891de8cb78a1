package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// The lease's expiry is the database's business: holders pass only a
// length, and a lapsed lease is one whose time has passed on the database.
func TestLeaseHandOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ttl := 400 * time.Millisecond
		ok, err := s.AcquireLease(ctx, "leader", "a", ttl)
		if err != nil || !ok {
			t.Fatalf("a acquires a free lease: %v %v", ok, err)
		}
		if ok, _ := s.AcquireLease(ctx, "leader", "b", ttl); ok {
			t.Fatal("b took a lease a still holds")
		}
		time.Sleep(ttl / 2)
		if ok, _ := s.AcquireLease(ctx, "leader", "a", ttl); !ok {
			t.Fatal("a could not renew its own lease")
		}
		time.Sleep(ttl * 3 / 4)
		// Past a's first expiry, but a renewed: b must still wait.
		if ok, _ := s.AcquireLease(ctx, "leader", "b", ttl); ok {
			t.Fatal("b took a renewed lease")
		}
		// a dies: no renewal; after expiry b takes over.
		time.Sleep(ttl)
		ok, err = s.AcquireLease(ctx, "leader", "b", time.Minute)
		if err != nil || !ok {
			t.Fatalf("b after expiry: %v %v", ok, err)
		}
		l, err := s.LeaseByName(ctx, "leader")
		if err != nil || l.Holder != "b" {
			t.Fatalf("lease = %+v %v", l, err)
		}
		if d := time.Until(l.ExpiresAt); d < 50*time.Second || d > 70*time.Second {
			t.Fatalf("lease expires in %v, want about a minute", d)
		}
		// Releasing hands it over without waiting for expiry.
		if err := s.ReleaseLease(ctx, "leader", "b"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.AcquireLease(ctx, "leader", "a", ttl); !ok {
			t.Fatal("a could not take a released lease")
		}
	})
}
