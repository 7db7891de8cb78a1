package store

import (
	"context"
	"fmt"
	"time"
)

// SetAway records that user is away until until (/callbacks away): the rota
// skips them while now is before it. A second call moves the date.
func (q queries) SetAway(ctx context.Context, user string, until, now time.Time) error {
	if _, err := q.exec(ctx, `INSERT INTO staff_away (user_id, until, set_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET until = excluded.until, set_at = excluded.set_at`,
		user, until.UTC(), now.UTC()); err != nil {
		return fmt.Errorf("store: set %s away: %w", user, err)
	}
	return nil
}

// ClearAway records that user is back (/callbacks back); was tells whether
// they had been marked away at all.
func (q queries) ClearAway(ctx context.Context, user string) (was bool, err error) {
	res, err := q.exec(ctx, `DELETE FROM staff_away WHERE user_id = ?`, user)
	if err != nil {
		return false, fmt.Errorf("store: clear %s away: %w", user, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: clear %s away: %w", user, err)
	}
	return n > 0, nil
}

// AwayUntil lists who is away at now, with the time each is back.
func (q queries) AwayUntil(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	var rows []struct {
		User  string    `db:"user_id"`
		Until time.Time `db:"until"`
	}
	if err := q.selectAll(ctx, &rows, `SELECT user_id, until FROM staff_away WHERE until > ?`, now.UTC()); err != nil {
		return nil, fmt.Errorf("store: who is away: %w", err)
	}
	away := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		away[r.User] = r.Until
	}
	return away, nil
}

// TakeRotaTurn returns how many turns the round-robin rota of (line,
// category) has taken before this one, and counts this one. Called in the
// transaction that assigns the case, so two cases never take one turn.
func (tx *Tx) TakeRotaTurn(ctx context.Context, line, category string) (int64, error) {
	var n int64
	if err := tx.get(ctx, &n, `INSERT INTO rota_turns (line_number, category, turns) VALUES (?, ?, 1)
		ON CONFLICT (line_number, category) DO UPDATE SET turns = rota_turns.turns + 1
		RETURNING turns`, line, category); err != nil {
		return 0, fmt.Errorf("store: rota turn on %s %q: %w", line, category, err)
	}
	return n - 1, nil
}
