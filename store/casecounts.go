package store

import (
	"context"
	"fmt"
	"time"
)

// LineBacklog is one line's open cases: all, those nobody owns, and those
// past their due time without human contact.
type LineBacklog struct {
	LineNumber string `db:"line_number"`
	Open       int    `db:"open"`
	Unclaimed  int    `db:"unclaimed"`
	Overdue    int    `db:"overdue"`
}

// BacklogByLine counts the open cases of every line. It reads the open
// cases only (the cases_queue index's rows), never the closed history.
func (q queries) BacklogByLine(ctx context.Context, now time.Time) ([]LineBacklog, error) {
	var out []LineBacklog
	err := q.selectAll(ctx, &out, `
		SELECT line_number, COUNT(*) AS open,
			SUM(CASE WHEN owner = '' THEN 1 ELSE 0 END) AS unclaimed,
			SUM(CASE WHEN due_at < ? AND first_contact_at IS NULL THEN 1 ELSE 0 END) AS overdue
		FROM cases WHERE state <> 'closed'
		GROUP BY line_number ORDER BY line_number`, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: backlog by line: %w", err)
	}
	return out, nil
}
