package store

import (
	"context"
	"fmt"
	"time"
)

// Watermark returns how far the scan called name has got; ErrNotFound
// before its first pass.
func (s *Store) Watermark(ctx context.Context, name string) (time.Time, error) {
	var t time.Time
	err := s.get(ctx, &t, `SELECT mark FROM watermarks WHERE name = ?`, name)
	if err != nil {
		return time.Time{}, notFound(err, "store: watermark %s", name)
	}
	return t.UTC(), nil
}

// SetWatermark records that the scan called name has got to mark.
func (s *Store) SetWatermark(ctx context.Context, name string, mark, now time.Time) error {
	_, err := s.exec(ctx, `
		INSERT INTO watermarks (name, mark, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET mark = excluded.mark, updated_at = excluded.updated_at`,
		name, mark.UTC(), now.UTC())
	if err != nil {
		return fmt.Errorf("store: set watermark %s: %w", name, err)
	}
	return nil
}
