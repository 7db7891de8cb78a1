package store

import (
	"context"
	"fmt"
	"time"
)

// OptOutEntry is one row of the opt-out ledger: a number Ringback must not
// text on any line, and where that came from.
type OptOutEntry struct {
	Number     string    `db:"number"`
	Source     string    `db:"source"`      // keyword, plain_language, staff, manual, provider_<code>
	LineNumber string    `db:"line_number"` // the line the request was texted to ("" when none)
	Phrase     string    `db:"phrase"`      // the words that made it one, normalised
	AddedBy    string    `db:"added_by"`    // the person who decided it (staff, manual)
	CreatedAt  time.Time `db:"created_at"`
}

// OptOut records that nothing more may be texted to number, on any line.
// added is false when it was opted out already.
func (q queries) OptOut(ctx context.Context, number, source string, now time.Time) (added bool, err error) {
	return q.AddOptOut(ctx, OptOutEntry{Number: number, Source: source, CreatedAt: now})
}

// AddOptOut records an opt-out with where it came from; the first one of a
// number stays (added is false for later ones).
func (q queries) AddOptOut(ctx context.Context, e OptOutEntry) (added bool, err error) {
	res, err := q.exec(ctx, `INSERT INTO opt_outs (number, source, line_number, phrase, added_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (number) DO NOTHING`,
		e.Number, e.Source, e.LineNumber, e.Phrase, e.AddedBy, e.CreatedAt.UTC())
	if err != nil {
		return false, fmt.Errorf("store: opt out %s: %w", e.Number, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// OptOuts lists the ledger, newest first, at most limit rows, and how
// many rows it has in all.
func (q queries) OptOuts(ctx context.Context, limit int) (entries []OptOutEntry, total int, err error) {
	if err := q.get(ctx, &total, `SELECT COUNT(*) FROM opt_outs`); err != nil {
		return nil, 0, fmt.Errorf("store: count opt-outs: %w", err)
	}
	err = q.selectAll(ctx, &entries, `SELECT number, source, line_number, phrase, added_by, created_at FROM opt_outs
		ORDER BY created_at DESC, number LIMIT ?`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list opt-outs: %w", err)
	}
	return entries, total, nil
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

// Textable tells, in one statement, whether number opted out and why it
// cannot receive SMS ("" when it can): what is checked before every text.
func (q queries) Textable(ctx context.Context, number string) (optedOut bool, untextable string, err error) {
	var row struct {
		OptedOut   bool   `db:"opted_out"`
		Untextable string `db:"untextable"`
	}
	err = q.get(ctx, &row, `SELECT EXISTS (SELECT 1 FROM opt_outs WHERE number = ?) AS opted_out,
		COALESCE((SELECT reason FROM untextable_numbers WHERE number = ?), '') AS untextable`, number, number)
	if err != nil {
		return false, "", fmt.Errorf("store: may %s be texted: %w", number, err)
	}
	return row.OptedOut, row.Untextable, nil
}
