package store

import (
	"context"
	"fmt"
	"time"
)

// MarkUntextable records that number cannot receive SMS (a landline, an
// unreachable carrier), so no text-back is attempted again.
func (q queries) MarkUntextable(ctx context.Context, number, reason string, now time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO untextable_numbers (number, reason, created_at) VALUES (?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET reason = excluded.reason`, number, reason, now.UTC())
	if err != nil {
		return fmt.Errorf("store: mark %s untextable: %w", number, err)
	}
	return nil
}

// Untextable returns why number cannot receive SMS ("" when it can).
func (q queries) Untextable(ctx context.Context, number string) (string, error) {
	var r []string
	if err := q.selectAll(ctx, &r, `SELECT reason FROM untextable_numbers WHERE number = ?`, number); err != nil {
		return "", fmt.Errorf("store: untextable %s: %w", number, err)
	}
	if len(r) == 0 {
		return "", nil
	}
	return r[0], nil
}
