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
		const ttl = 500 * time.Millisecond
		a := bot.NewLeader(s, "replica-a", quiet).WithTiming(ttl, ttl/3)
		b := bot.NewLeader(s, "replica-b", quiet).WithTiming(ttl, ttl/3)
		if !a.Tick(ctx) || b.Tick(ctx) {
			t.Fatal("want a leader, b not")
		}
		time.Sleep(ttl / 2)
		if !a.Tick(ctx) || b.Tick(ctx) {
			t.Fatal("a renews; b still follows")
		}
		// a dies: it stops renewing. b waits out the lease, then leads.
		time.Sleep(ttl * 3 / 4)
		if b.Tick(ctx) {
			t.Fatal("b took over before the lease expired")
		}
		time.Sleep(ttl / 2)
		if !b.Tick(ctx) {
			t.Fatal("b did not take over an expired lease")
		}
		// a comes back (a paused VM): it must see it lost.
		if a.Tick(ctx) || !b.IsLeader() {
			t.Fatal("two leaders")
		}
	})
}

// A leader killed without releasing (SIGKILL) is replaced within 10 s by a
// follower running the production timing.
func TestLeaderHandOverAfterKillWithinTenSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a real lease")
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		a := bot.NewLeader(s, "replica-a", quiet)
		if !a.Tick(ctx) {
			t.Fatal("a does not lead")
		}
		killed := time.Now() // a never renews nor releases again
		b := bot.NewLeader(s, "replica-b", quiet)
		leading := make(chan time.Time, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.Run(ctx, func(lctx context.Context) { leading <- time.Now(); <-lctx.Done() })
		}()
		took := within(t, leading, 12*time.Second, "b never took over").Sub(killed)
		t.Logf("hand-over took %v", took.Round(100*time.Millisecond))
		if took < bot.LeaderLeaseTTL-time.Second {
			t.Fatalf("b led after %v, before a's lease could lapse", took)
		}
		if took > 10*time.Second {
			t.Fatalf("hand-over took %v, want ≤ 10 s", took)
		}
		cancel()
		<-done
	})
}

func TestLeaderRunStopsLeadingOnShutdownAndReleases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		a := bot.NewLeader(s, "replica-a", quiet)
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
		within(t, leading, 5*time.Second, "never led")
		cancel()
		<-done
		select {
		case <-stopped:
		default:
			t.Fatal("Run returned while the leader's work still ran")
		}
		// Released: another replica leads at once, without waiting for expiry.
		b := bot.NewLeader(s, "replica-b", quiet)
		if !b.Tick(context.Background()) {
			t.Fatal("lease not released on shutdown")
		}
	})
}

// A renewal is a heartbeat: with every connection taken and a backlog of
// background statements queued for them, as on a replica back from a
// database restart, the leader still renews within its check's time, ahead
// of the backlog. Queued behind it, the check timed out again and again
// and no replica led until the backlog cleared.
func TestLeaderRenewsAheadOfTheBackground(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		// Its check times out after a second (Tick).
		l := bot.NewLeader(s, "replica-a", quiet).WithTiming(time.Minute, 300*time.Millisecond)
		if !l.Tick(ctx) {
			t.Fatal("a lone replica does not lead")
		}
		// Every connection held; behind them a backlog: 2 s of statements
		// (50 ms each) for the one connection that frees.
		conns := holdConnections(t, s, c.ID, func() { time.Sleep(50 * time.Millisecond) })
		const backlog = 40
		for range backlog - 1 { // the fill's last one waits already
			conns.queue()
		}
		for deadline := time.Now().Add(5 * time.Second); s.ConnWaiting(store.ConnBackground) < backlog; {
			if time.Now().After(deadline) {
				t.Fatalf("%d of the backlog's statements wait for a connection, want %d", s.ConnWaiting(store.ConnBackground), backlog)
			}
			time.Sleep(time.Millisecond)
		}
		conns.free()
		start := time.Now()
		if !l.Tick(ctx) {
			t.Fatalf("the leader's renewal failed after %v, with %d of the backlog's statements still waiting: it waited behind them",
				time.Since(start).Round(time.Millisecond), s.ConnWaiting(store.ConnBackground))
		}
		if waiting := s.ConnWaiting(store.ConnBackground); waiting < backlog/2 {
			t.Errorf("the leader renewed once %d of the %d background statements had run, want ahead of them", backlog-waiting, backlog)
		}
	})
}
