package bot

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"ringback/store"
)

// LeaderLease is the lease row whose holder runs the timers (escalations,
// digest, reconciliation). Exactly one replica holds it at a time.
const LeaderLease = "leader"

// Leader keeps or seeks the leader lease and runs work only while it holds it.
type Leader struct {
	store *store.Store
	clock Clock
	id    string
	ttl   time.Duration
	renew time.Duration
	log   *slog.Logger
	is    atomic.Bool
}

// NewLeader returns a contender identified by id. A leader that stops
// renewing (it died, or lost the database) is replaced after ttl.
func NewLeader(s *store.Store, clock Clock, id string, log *slog.Logger) *Leader {
	return &Leader{store: s, clock: clock, id: id, ttl: 15 * time.Second, renew: 5 * time.Second, log: log}
}

// IsLeader reports whether this replica held the lease at its last check.
func (l *Leader) IsLeader() bool { return l.is.Load() }

// Tick tries once to take or renew the lease and reports whether this
// replica leads now.
func (l *Leader) Tick(ctx context.Context) bool {
	ok, err := l.store.AcquireLease(ctx, LeaderLease, l.id, l.clock.Now(), l.ttl)
	if err != nil {
		l.log.Warn("leader lease check failed", "error", err)
		ok = false
	}
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
				rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				if err := l.store.ReleaseLease(rctx, LeaderLease, l.id); err != nil {
					l.log.Warn("leader lease release failed", "error", err)
				}
				rcancel()
				l.is.Store(false)
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
