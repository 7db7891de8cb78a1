package bot

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"ringback/metrics"
	"ringback/store"
)

// LeaderLease is the lease row whose holder runs the timers (escalations,
// digest, reconciliation). Exactly one replica holds it at a time.
const LeaderLease = "leader"

// Lease timing: a leader SIGKILLed right after renewing is replaced at most
// LeaderLeaseTTL + LeaderRenewEvery later (8 s), since followers look every
// LeaderRenewEvery. A leader renews three times per lease, so one slow or
// failed renewal does not cost it the lease; one failed renewal ends its
// term at once, well before a successor could take over.
const (
	LeaderLeaseTTL   = 6 * time.Second
	LeaderRenewEvery = 2 * time.Second
)

// Leader keeps or seeks the leader lease and runs work only while it holds it.
type Leader struct {
	store *store.Store
	id    string
	ttl   time.Duration
	renew time.Duration
	log   *slog.Logger
	is    atomic.Bool
	m     *metrics.Set
}

// NewLeader returns a contender identified by id. A leader that stops
// renewing (it died, or lost the database) is replaced after the lease
// lapses. The lease is timed by the database's clock, never the bot's
// injectable one: a demo clock that jumps must not hand leadership over.
func NewLeader(s *store.Store, id string, log *slog.Logger) *Leader {
	return &Leader{store: s, id: id, ttl: LeaderLeaseTTL, renew: LeaderRenewEvery, log: log}
}

// WithTiming sets the lease length and the renewal interval (tests).
func (l *Leader) WithTiming(ttl, renew time.Duration) *Leader {
	l.ttl, l.renew = ttl, renew
	return l
}

// WithMetrics exports this replica's leadership as ringback_leader.
func (l *Leader) WithMetrics(m *metrics.Set) *Leader {
	l.m = m
	return l
}

// IsLeader reports whether this replica held the lease at its last check.
func (l *Leader) IsLeader() bool { return l.is.Load() }

// Tick tries once to take or renew the lease and reports whether this
// replica leads now.
func (l *Leader) Tick(ctx context.Context) bool {
	// A renewal slower than the interval counts as failed: the term ends
	// before the lease could lapse under a hung connection.
	tctx, cancel := context.WithTimeout(ctx, max(l.renew, time.Second))
	defer cancel()
	// Foreground: a renewal is a heartbeat. Queued behind a backlog for the
	// connections (a replica back from a database restart, its outbox's
	// statements waiting), it timed out again and again on every replica,
	// and none led until the backlog cleared: the timers, the reconciler
	// and the receipt asker stopped meanwhile (a chaos run: ~15 s).
	ok, err := l.store.AcquireLease(store.Foreground(tctx), LeaderLease, l.id, l.ttl)
	if err != nil {
		l.log.Warn("leader lease check failed", "error", err)
		ok = false
	}
	l.m.Leading(ok)
	if was := l.is.Swap(ok); was != ok {
		l.log.Info("leadership changed", "leader", ok, "replica", l.id)
	}
	return ok
}

// Run calls lead with a context that lives while this replica is the leader;
// it returns when ctx ends, releasing the lease so a successor need not wait.
func (l *Leader) Run(ctx context.Context, lead func(ctx context.Context)) {
	var term *term
	ticker := time.NewTicker(l.renew)
	defer ticker.Stop()
	for {
		if l.Tick(ctx) {
			if term == nil {
				term = startTerm(ctx, lead)
			}
		} else if term != nil {
			term.end()
			term = nil
		}
		select {
		case <-ctx.Done():
			if term != nil {
				term.end()
			}
			if l.is.Load() {
				rctx, rcancel := context.WithTimeout(store.Foreground(context.WithoutCancel(ctx)), 2*time.Second)
				if err := l.store.ReleaseLease(rctx, LeaderLease, l.id); err != nil {
					l.log.Warn("leader lease release failed", "error", err)
				}
				rcancel()
				l.is.Store(false)
				l.m.Leading(false)
			}
			return
		case <-ticker.C:
		}
	}
}

// term is one stretch of leadership: the leader's work runs until it ends.
type term struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startTerm(ctx context.Context, lead func(ctx context.Context)) *term {
	lctx, cancel := context.WithCancel(ctx)
	t := &term{cancel: cancel, done: make(chan struct{})}
	go func() { defer close(t.done); lead(lctx) }()
	return t
}

// end stops the leader's work and waits until it has stopped, so two
// replicas never run the timers at once.
func (t *term) end() {
	t.cancel()
	<-t.done
}
