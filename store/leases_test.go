package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

func TestLeaseHandOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ttl := 15 * time.Second
		ok, err := s.AcquireLease(ctx, "leader", "a", t0, ttl)
		if err != nil || !ok {
			t.Fatalf("a acquires a free lease: %v %v", ok, err)
		}
		if ok, _ := s.AcquireLease(ctx, "leader", "b", t0.Add(5*time.Second), ttl); ok {
			t.Fatal("b took a lease a still holds")
		}
		if ok, _ := s.AcquireLease(ctx, "leader", "a", t0.Add(10*time.Second), ttl); !ok {
			t.Fatal("a could not renew its own lease")
		}
		// a renewed until t0+25s: b must still wait.
		if ok, _ := s.AcquireLease(ctx, "leader", "b", t0.Add(20*time.Second), ttl); ok {
			t.Fatal("b took a renewed lease")
		}
		// a dies: no renewal; after expiry b takes over.
		ok, err = s.AcquireLease(ctx, "leader", "b", t0.Add(25*time.Second), ttl)
		if err != nil || !ok {
			t.Fatalf("b after expiry: %v %v", ok, err)
		}
		l, err := s.LeaseByName(ctx, "leader")
		if err != nil || l.Holder != "b" {
			t.Fatalf("lease = %+v %v", l, err)
		}
		// Releasing hands it over without waiting for expiry.
		if err := s.ReleaseLease(ctx, "leader", "b"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.AcquireLease(ctx, "leader", "a", t0.Add(26*time.Second), ttl); !ok {
			t.Fatal("a could not take a released lease")
		}
	})
}
