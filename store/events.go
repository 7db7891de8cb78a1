package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
// In a transaction the events wait and are written together, in order, in
// one statement before the commit (or before the transaction reads events).
func (q queries) AddEvent(ctx context.Context, caseID int64, at time.Time, kind, actor string, data any) error {
	raw := []byte("{}")
	if data != nil {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return fmt.Errorf("store: event %s data: %w", kind, err)
		}
	}
	e := pendingEvent{caseID: caseID, at: at.UTC(), kind: kind, actor: actor, data: string(raw)}
	if q.tx != nil {
		q.tx.events = append(q.tx.events, e)
		return nil
	}
	return q.insertEvents(ctx, []pendingEvent{e})
}

// pendingEvent is an event a transaction has yet to write.
type pendingEvent struct {
	caseID            int64
	at                time.Time
	kind, actor, data string
}

// eventsPerStatement keeps a batch's parameters far below SQLite's limit.
const eventsPerStatement = 200

func (q queries) insertEvents(ctx context.Context, es []pendingEvent) error {
	for len(es) > 0 {
		batch := es[:min(len(es), eventsPerStatement)]
		es = es[len(batch):]
		query, args := eventsInsert(batch)
		if _, err := q.exec(ctx, query, args...); err != nil {
			return fmt.Errorf("store: add event %s to case %d: %w", batch[0].kind, batch[0].caseID, err)
		}
	}
	return nil
}

// eventsInsert is the statement writing es.
func eventsInsert(es []pendingEvent) (string, []any) {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO events (case_id, at, kind, actor, data) VALUES `)
	args := make([]any, 0, 5*len(es))
	for i, e := range es {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, e.caseID, e.at, e.kind, e.actor, e.data)
	}
	return sb.String(), args
}

// flushPending writes the transaction's waiting events and outbox rows
// (EnqueueLater) before its commit and before any statement of its that
// names the events or the outbox table, so that it reads what it wrote;
// outside a transaction none wait.
func (q queries) flushPending(ctx context.Context, query string) error {
	if q.tx == nil || len(q.tx.events) == 0 && len(q.tx.outbox) == 0 ||
		query != "" && !strings.Contains(query, "events") && !strings.Contains(query, "outbox") {
		return nil
	}
	es, rows := q.tx.events, q.tx.outbox
	q.tx.events, q.tx.outbox = nil, nil
	rows, err := q.coalesceOutbox(ctx, rows)
	if err != nil {
		return err
	}
	if len(es) == 0 && len(rows) == 0 {
		return nil
	}
	if q.d.name == "postgres" && len(es) > 0 && len(rows) > 0 && len(es) <= eventsPerStatement && len(rows) <= outboxRowsPerStatement {
		// One statement for both: a round trip and a statement fewer.
		evq, evargs := eventsInsert(es)
		obq, obargs := outboxInsert(rows)
		return q.insertOutbox(ctx, "WITH written_events AS ("+evq+") "+obq, append(evargs, obargs...), rows)
	}
	if err := q.insertEvents(ctx, es); err != nil {
		return err
	}
	for len(rows) > 0 {
		batch := rows[:min(len(rows), outboxRowsPerStatement)]
		rows = rows[len(batch):]
		obq, obargs := outboxInsert(batch)
		if err := q.insertOutbox(ctx, obq, obargs, batch); err != nil {
			return err
		}
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
