package bot_test

import (
	"context"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

func TestLeaderHandOverWhenLeaderDies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := bot.NewManualClock(t0)
		a := bot.NewLeader(s, clock, "replica-a", quiet)
		b := bot.NewLeader(s, clock, "replica-b", quiet)
		if !a.Tick(ctx) || b.Tick(ctx) {
			t.Fatal("want a leader, b not")
		}
		clock.Advance(5 * time.Second)
		if !a.Tick(ctx) || b.Tick(ctx) {
			t.Fatal("a renews; b still follows")
		}
		// a dies: it stops renewing. b waits out the lease (15 s), then leads.
		clock.Advance(14 * time.Second)
		if b.Tick(ctx) {
			t.Fatal("b took over before the lease expired")
		}
		clock.Advance(time.Second)
		if !b.Tick(ctx) {
			t.Fatal("b did not take over an expired lease")
		}
		// a comes back (a paused VM): it must see it lost.
		if a.Tick(ctx) || !b.IsLeader() {
			t.Fatal("two leaders")
		}
	})
}

func TestLeaderRunStopsLeadingOnShutdownAndReleases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		a := bot.NewLeader(s, bot.SystemClock{}, "replica-a", quiet)
		leading := make(chan struct{})
		stopped := make(chan struct{})
		done := make(chan struct{})
		go func() {
			a.Run(ctx, func(lctx context.Context) {
				close(leading)
				<-lctx.Done()
				close(stopped)
			})
			close(done)
		}()
		select {
		case <-leading:
		case <-time.After(5 * time.Second):
			t.Fatal("never led")
		}
		cancel()
		<-done
		select {
		case <-stopped:
		default:
			t.Fatal("Run returned while the leader's work still ran")
		}
		// Released: another replica leads at once, without waiting 15 s.
		b := bot.NewLeader(s, bot.SystemClock{}, "replica-b", quiet)
		if !b.Tick(context.Background()) {
			t.Fatal("lease not released on shutdown")
		}
	})
}
