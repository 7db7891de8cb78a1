package store

import (
	"context"
	"fmt"
	"time"
)

// FirstRequest records key (a signed request's identity) until expires and
// reports whether it was new: false means the request was accepted before,
// by this process or another. Expired keys are pruned on the way.
func (s *Store) FirstRequest(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	if _, err := s.exec(ctx, `DELETE FROM seen_requests WHERE expires_at < ?`, now.UTC()); err != nil {
		return false, fmt.Errorf("store: prune seen requests: %w", err)
	}
	res, err := s.exec(ctx, `INSERT INTO seen_requests (request_key, expires_at) VALUES (?, ?) ON CONFLICT (request_key) DO NOTHING`,
		key, expires.UTC())
	if err != nil {
		return false, fmt.Errorf("store: record request: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: record request: %w", err)
	}
	return n == 1, nil
}
