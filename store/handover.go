package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ClosedBetween lists the line's cases closed after from and at or before
// to, in the order they closed, spam left out (at most limit; total counts
// them all): what a shift handover reports as done.
func (q queries) ClosedBetween(ctx context.Context, line string, from, to time.Time, limit int) (rows []QueueRow, total int, err error) {
	const where = `c.line_number = ? AND c.state = 'closed' AND c.closed_at > ? AND c.closed_at <= ? AND NOT c.spam`
	args := []any{line, from.UTC(), to.UTC()}
	if err := q.get(ctx, &total, `SELECT COUNT(*) FROM cases c WHERE `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("store: count closed cases of %s: %w", line, err)
	}
	cols := prefixed("c", caseColumns)
	if err := q.selectAll(ctx, &rows, `SELECT `+cols+`, ct.name AS contact_name
		FROM cases c LEFT JOIN contacts ct ON ct.id = c.contact_id
		WHERE `+where+` ORDER BY c.closed_at, c.id LIMIT ?`, append(args, limit)...); err != nil {
		return nil, 0, fmt.Errorf("store: closed cases of %s: %w", line, err)
	}
	return rows, total, nil
}

// noteEvents are the kinds of event whose data may carry a staff note.
var noteEvents = []string{"callback", "closed"}

// LatestNotes returns each case's most recent staff note (a logged
// callback's or the close note), for the cases that have one.
func (q queries) LatestNotes(ctx context.Context, caseIDs []int64) (map[int64]string, error) {
	notes := map[int64]string{}
	if len(caseIDs) == 0 {
		return notes, nil
	}
	args := make([]any, 0, len(caseIDs)+len(noteEvents))
	for _, id := range caseIDs {
		args = append(args, id)
	}
	for _, k := range noteEvents {
		args = append(args, k)
	}
	var es []Event
	if err := q.selectAll(ctx, &es, `SELECT id, case_id, at, kind, actor, data FROM events
		WHERE case_id IN (`+placeholders(len(caseIDs))+`) AND kind IN (`+placeholders(len(noteEvents))+`)
		ORDER BY id`, args...); err != nil {
		return nil, fmt.Errorf("store: latest notes: %w", err)
	}
	for _, e := range es {
		var d struct {
			Note string `json:"note"`
		}
		if json.Unmarshal([]byte(e.Data), &d) == nil && strings.TrimSpace(d.Note) != "" {
			notes[e.CaseID] = strings.TrimSpace(d.Note)
		}
	}
	return notes, nil
}

// placeholders is "?, ?, …" n times.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
