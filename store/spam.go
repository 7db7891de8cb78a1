package store

import (
	"context"
	"fmt"
	"time"
)

// AddSpam puts number on the spam list: its calls open cases marked spam and
// are never texted.
func (q queries) AddSpam(ctx context.Context, number, by string, now time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO spam_numbers (number, added_by, created_at) VALUES (?, ?, ?) ON CONFLICT (number) DO NOTHING`,
		number, by, now.UTC())
	if err != nil {
		return fmt.Errorf("store: add spam %s: %w", number, err)
	}
	return nil
}

// RemoveSpam takes number off the spam list.
func (q queries) RemoveSpam(ctx context.Context, number string) error {
	if _, err := q.exec(ctx, `DELETE FROM spam_numbers WHERE number = ?`, number); err != nil {
		return fmt.Errorf("store: remove spam %s: %w", number, err)
	}
	return nil
}

// IsSpam reports whether number is on the spam list.
func (q queries) IsSpam(ctx context.Context, number string) (bool, error) {
	return q.exists(ctx, `SELECT 1 FROM spam_numbers WHERE number = ?`, number)
}
