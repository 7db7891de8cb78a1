package store

import (
	"context"
	"fmt"
	"time"
)

// Lease is a named lock with an expiry: the holder keeps it by renewing
// before expires_at; when it dies, the lease lapses and another may take it.
type Lease struct {
	Name      string    `db:"name"`
	Holder    string    `db:"holder"`
	ExpiresAt time.Time `db:"expires_at"`
}

// AcquireLease takes or renews the lease for holder for ttl. It succeeds
// when the lease is free, expired, or already holder's. Expiry is measured
// by the database's clock, the one clock every replica shares: a replica
// whose own clock runs ahead (or a demo clock that jumps) cannot steal it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now, err := s.leaseClock(ctx)
	if err != nil {
		return false, fmt.Errorf("store: acquire lease %s: %w", name, err)
	}
	var got []string
	err = s.selectAll(ctx, &got, `
		INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
		RETURNING holder`,
		name, holder, now.Add(ttl), now)
	if err != nil {
		return false, fmt.Errorf("store: acquire lease %s: %w", name, err)
	}
	return len(got) == 1, nil
}

// leaseClock is the database's time now, in UTC. SQLite runs in this
// process, so there it is this machine's clock.
func (q queries) leaseClock(ctx context.Context) (time.Time, error) {
	if q.d.name == "sqlite" {
		var s string
		if err := q.get(ctx, &s, `SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')`); err != nil {
			return time.Time{}, fmt.Errorf("database clock: %w", err)
		}
		t, err := time.Parse("2006-01-02 15:04:05.000", s)
		if err != nil {
			return time.Time{}, fmt.Errorf("database clock %q: %w", s, err)
		}
		return t.UTC(), nil
	}
	var t time.Time
	if err := q.get(ctx, &t, `SELECT clock_timestamp()`); err != nil {
		return time.Time{}, fmt.Errorf("database clock: %w", err)
	}
	return t.UTC(), nil
}

// ReleaseLease gives the lease up at once, so a successor need not wait for
// it to expire (graceful shutdown).
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.exec(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
	if err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// LeaseByName returns the lease's current row.
func (s *Store) LeaseByName(ctx context.Context, name string) (Lease, error) {
	var l Lease
	err := s.get(ctx, &l, `SELECT name, holder, expires_at FROM leases WHERE name = ?`, name)
	return l, notFound(err, "store: lease %s", name)
}
