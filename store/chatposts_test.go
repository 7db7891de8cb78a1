package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A chat post's record keeps its first attempt's start, from which a re-run
// searches the platform, and where the post landed once known.
func TestChatPostKeepsItsFirstAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.ChatPostFor(ctx, "slack", "entry:7"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before any attempt: %v", err)
		}
		if err := s.StartChatPost(ctx, "slack", "entry:7", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.StartChatPost(ctx, "slack", "entry:7", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		p, err := s.ChatPostFor(ctx, "slack", "entry:7")
		if err != nil || !p.StartedAt.Equal(t0) || p.MessageID != "" {
			t.Fatalf("after two attempts: %+v %v; want the first start and no message", p, err)
		}
		if _, err := s.ChatPostFor(ctx, "discord", "entry:7"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another platform's post: %v", err)
		}
		// A refused attempt is forgotten; a landed post never is.
		if err := s.StartChatPost(ctx, "slack", "entry:8", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.ForgetChatPost(ctx, "slack", "entry:8"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChatPostFor(ctx, "slack", "entry:8"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a forgotten attempt: %v", err)
		}
		if err := s.SaveChatPost(ctx, "slack", "entry:7", "C1", "1800000000.000100"); err != nil {
			t.Fatal(err)
		}
		if err := s.ForgetChatPost(ctx, "slack", "entry:7"); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.ChatPostFor(ctx, "slack", "entry:7"); p.Channel != "C1" || p.MessageID != "1800000000.000100" {
			t.Fatalf("saved: %+v", p)
		}
	})
}

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
