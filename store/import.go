package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// importBatch is how many calls one INSERT writes: 15 parameters a row keeps
// a statement far below SQLite's 32,766 and PostgreSQL's 65,535 parameters,
// while 100,000 rows still take only 200 round trips.
const importBatch = 500

// InsertCalls writes many calls (an imported call log) in multi-row
// statements, skipping those whose SID is stored already. It sets the ID of
// each call it wrote and leaves the others' at 0; n is how many it wrote.
// Run it in a transaction so that a failure leaves nothing half-imported.
func (q queries) InsertCalls(ctx context.Context, calls []Call) (n int, err error) {
	for start := 0; start < len(calls); start += importBatch {
		batch := calls[start:min(start+importBatch, len(calls))]
		bySID := make(map[string]*Call, len(batch))
		args := make([]any, 0, len(batch)*15)
		for i := range batch {
			c := &batch[i]
			c.ID = 0
			bySID[c.SID] = c
			args = append(args, c.SID, c.Provider, c.LineNumber, c.Routed, c.CallerNumber, c.Status, c.Missed, c.AfterHours,
				c.StartedAt.UTC(), c.DurationS, c.VoicemailURL, c.Transcript, c.CaseID, c.CreatedAt.UTC(), c.UpdatedAt.UTC())
		}
		var rows []struct {
			ID  int64  `db:"id"`
			SID string `db:"sid"`
		}
		err := q.selectAll(ctx, &rows, `
			INSERT INTO calls (sid, provider, line_number, routed, caller_number, status, missed, after_hours,
				started_at, duration_s, voicemail_url, transcript, case_id, created_at, updated_at)
			VALUES `+valuesList(len(batch), 15)+`
			ON CONFLICT (sid) DO NOTHING
			RETURNING id, sid`, args...)
		if err != nil {
			return n, fmt.Errorf("store: insert calls: %w", err)
		}
		for _, r := range rows {
			if c := bySID[r.SID]; c != nil {
				c.ID = r.ID
			}
		}
		n += len(rows)
	}
	return n, nil
}

// valuesList is "(?, ?), (?, ?)" for rows of cols placeholders each.
func valuesList(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	var b strings.Builder
	b.Grow(rows * (len(row) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// CountCallsBetween counts the calls started in [from, to] that a provider
// other than the given one reported: an import checks with it whether
// Ringback saw the same period live, which would count those calls twice.
func (q queries) CountCallsBetween(ctx context.Context, from, to time.Time, notProvider string) (int, error) {
	var n int
	err := q.get(ctx, &n, `SELECT COUNT(*) FROM calls WHERE started_at >= ? AND started_at <= ? AND provider <> ?`,
		from.UTC(), to.UTC(), notProvider)
	if err != nil {
		return 0, fmt.Errorf("store: count calls: %w", err)
	}
	return n, nil
}
