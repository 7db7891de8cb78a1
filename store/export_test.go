package store

import (
	"context"
	"time"
)

// Setting is a PostgreSQL setting as the transaction sees it now.
func (tx *Tx) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := tx.tx.GetContext(ctx, &v, `SELECT current_setting($1)`, name)
	return v, err
}

// SetPresence sets how often a listening store says it listens and how
// long another counts as listening after it last spoke; before
// OutboxSignal.
func (s *Store) SetPresence(every, ttl time.Duration) {
	s.presence.every.Store(int64(every))
	s.presence.ttl.Store(int64(ttl))
}

// HearsOthers reports whether the store would NOTIFY now: it has heard
// another replica lately, or does not listen itself.
func (s *Store) HearsOthers() bool { return s.presence.othersListen(time.Now()) }

// Exec runs query on the store (or in the transaction) as any store
// statement is run.
func (q queries) Exec(ctx context.Context, query string, args ...any) error {
	_, err := q.exec(ctx, query, args...)
	return err
}

// ConnSlots is how many connections the gate hands out at once.
func (s *Store) ConnSlots() int { return s.gate.size }

// ConnWaitingAll is how many statements of any class wait for a
// connection (connGate).
func (s *Store) ConnWaitingAll() int {
	n := 0
	for c := range ConnClass(connClasses) {
		n += s.ConnWaiting(c)
	}
	return n
}

// PreparesInFlight is how many statements are being prepared in the
// background (stmt).
func (s *Store) PreparesInFlight() int {
	n := 0
	s.preparing.Range(func(q, _ any) bool {
		if _, ok := s.stmts.Load(q); !ok {
			n++
		}
		return true
	})
	return n
}

// ExtendOutbox is ExtendOutboxBatch for one row: held is false when the
// claim is no longer the worker's.
func (s *Store) ExtendOutbox(ctx context.Context, it OutboxItem, lease time.Duration) (held bool, err error) {
	ids, err := s.ExtendOutboxBatch(ctx, []OutboxItem{it}, lease)
	return ids[it.ID], err
}
