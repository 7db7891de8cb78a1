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
		if err := s.StartChatPost(ctx, "slack", "entry:7", 0, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.StartChatPost(ctx, "slack", "entry:7", 0, t0.Add(time.Minute)); err != nil {
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
		if err := s.StartChatPost(ctx, "slack", "entry:8", 0, t0); err != nil {
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

// Records of posts are pruned once old and their row is done: a row that
// may run again (pending, dead and perhaps requeued) keeps its record, and
// so does a recent post.
func TestPruneChatPostsKeepsWhatARowMayNeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, key := range []string{"done", "pending", "dead"} {
			enqueue(t, s, key, t0)
		}
		rows, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: t0, Lease: time.Minute, Limit: 3})
		if err != nil || len(rows) != 3 {
			t.Fatalf("claim: %d rows, %v", len(rows), err)
		}
		ids := map[string]int64{}
		for _, it := range rows {
			ids[it.DedupeKey] = it.ID
			var err error
			switch it.DedupeKey {
			case "done":
				_, err = s.CompleteOutbox(ctx, it, t0)
			case "pending":
				_, err = s.RetryOutbox(ctx, it, t0.Add(time.Hour), t0, "slack: 500")
			case "dead":
				_, err = s.KillOutbox(ctx, it, t0, "slack: invalid_blocks")
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		old, recent := t0, t0.Add(40*24*time.Hour)
		posts := []struct {
			key    string
			outbox int64
			at     time.Time
			kept   bool
		}{
			{"post:done", ids["done"], old, false},
			{"post:pending", ids["pending"], old, true},
			{"post:dead", ids["dead"], old, true},
			{"card:1", 0, old, false}, // a card's record names no row
			{"post:gone", 999999, old, false},
			{"post:recent", ids["done"], recent, true},
		}
		for _, p := range posts {
			if err := s.StartChatPost(ctx, "slack", p.key, p.outbox, p.at); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.PruneChatPosts(ctx, recent.Add(-30*24*time.Hour))
		if err != nil || n != 3 {
			t.Fatalf("pruned %d, %v; want 3", n, err)
		}
		for _, p := range posts {
			_, err := s.ChatPostFor(ctx, "slack", p.key)
			if kept := err == nil; kept != p.kept {
				t.Errorf("%s kept = %v (%v), want %v", p.key, kept, err, p.kept)
			}
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
