package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one entry of a case's append-only audit trail.
type Event struct {
	ID     int64     `db:"id"`
	CaseID int64     `db:"case_id"`
	At     time.Time `db:"at"`
	Kind   string    `db:"kind"`
	Actor  string    `db:"actor"`
	Data   string    `db:"data"` // JSON object
}

// AddEvent appends to the case's trail. data is marshalled to JSON (nil: {}).
func (q queries) AddEvent(ctx context.Context, caseID int64, at time.Time, kind, actor string, data any) error {
	raw := []byte("{}")
	if data != nil {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return fmt.Errorf("store: event %s data: %w", kind, err)
		}
	}
	_, err := q.exec(ctx, `INSERT INTO events (case_id, at, kind, actor, data) VALUES (?, ?, ?, ?, ?)`,
		caseID, at.UTC(), kind, actor, string(raw))
	if err != nil {
		return fmt.Errorf("store: add event %s to case %d: %w", kind, caseID, err)
	}
	return nil
}

// EventsForCase lists the case's trail in order.
func (q queries) EventsForCase(ctx context.Context, caseID int64) ([]Event, error) {
	var es []Event
	err := q.selectAll(ctx, &es, `SELECT id, case_id, at, kind, actor, data FROM events WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: events of case %d: %w", caseID, err)
	}
	return es, nil
}

// HasEvent reports whether the case's trail has an event of kind whose data
// contains the text (e.g. `"platform":"slack"`).
func (q queries) HasEvent(ctx context.Context, caseID int64, kind, contains string) (bool, error) {
	return q.exists(ctx, `SELECT 1 FROM events WHERE case_id = ? AND kind = ? AND data LIKE ?`, caseID, kind, "%"+contains+"%")
}

// LatestEvent is the case's most recent event of kind (ErrNotFound: none).
func (q queries) LatestEvent(ctx context.Context, caseID int64, kind string) (Event, error) {
	var e Event
	err := q.get(ctx, &e, `SELECT id, case_id, at, kind, actor, data FROM events WHERE case_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`, caseID, kind)
	return e, notFound(err, "store: latest %s event of case %d", kind, caseID)
}
