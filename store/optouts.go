package store

import (
	"context"
	"fmt"
	"time"
)

// OptOut records that nothing more may be texted to number, on any line.
// added is false when it was opted out already.
func (q queries) OptOut(ctx context.Context, number, source string, now time.Time) (added bool, err error) {
	res, err := q.exec(ctx, `INSERT INTO opt_outs (number, source, created_at) VALUES (?, ?, ?) ON CONFLICT (number) DO NOTHING`,
		number, source, now.UTC())
	if err != nil {
		return false, fmt.Errorf("store: opt out %s: %w", number, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// OptIn lifts an opt-out; removed is false when there was none.
func (q queries) OptIn(ctx context.Context, number string) (removed bool, err error) {
	res, err := q.exec(ctx, `DELETE FROM opt_outs WHERE number = ?`, number)
	if err != nil {
		return false, fmt.Errorf("store: opt in %s: %w", number, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// IsOptedOut reports whether number asked for no more texts.
func (q queries) IsOptedOut(ctx context.Context, number string) (bool, error) {
	return q.exists(ctx, `SELECT 1 FROM opt_outs WHERE number = ?`, number)
}

func (q queries) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one []int
	if err := q.selectAll(ctx, &one, query+` LIMIT 1`, args...); err != nil {
		return false, fmt.Errorf("store: exists: %w", err)
	}
	return len(one) > 0, nil
}
