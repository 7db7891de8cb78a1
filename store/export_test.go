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
