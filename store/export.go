package store

import (
	"context"
	"fmt"
	"time"
)

// EventRow is an event with the line and caller of its case, as the audit
// trail export writes it.
type EventRow struct {
	Event
	LineNumber   string `db:"line_number"`
	CallerNumber string `db:"caller_number"` // '' when withheld
}

// EachEvent calls fn for every event in [from, to), oldest first, reading
// the rows as it goes so that a long trail never sits in memory at once.
// fn must not use the store: on SQLite the one connection is busy until the
// rows are read. An error from fn stops the walk and is returned as is.
func (q queries) EachEvent(ctx context.Context, from, to time.Time, fn func(EventRow) error) error {
	if err := q.flushPending(ctx, ""); err != nil {
		return err
	}
	ext, err := q.conn()
	if err != nil {
		return err
	}
	q.s.note("events export")
	rows, err := ext.QueryxContext(ctx, q.d.rebind(`
		SELECT e.id, e.case_id, e.at, e.kind, e.actor, e.data, c.line_number, c.caller_number
		FROM events e JOIN cases c ON c.id = e.case_id
		WHERE e.at >= ? AND e.at < ?
		ORDER BY e.at, e.id`), from.UTC(), to.UTC())
	if err != nil {
		return fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r EventRow
		if err := rows.StructScan(&r); err != nil {
			return fmt.Errorf("store: events: %w", err)
		}
		r.At = r.At.UTC()
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: events: %w", err)
	}
	return nil
}
