package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
		query, args := q.eventsInsert(batch)
		if _, err := q.exec(ctx, query, args...); err != nil {
			return fmt.Errorf("store: add event %s to case %d: %w", batch[0].kind, batch[0].caseID, err)
		}
	}
	return nil
}

// eventsInsert is the statement writing es.
func (q queries) eventsInsert(es []pendingEvent) (string, []any) {
	var sb strings.Builder
	handedOver := q.s.eventsHandedOver.Load()
	if handedOver {
		sb.WriteString(`INSERT INTO events (case_id, at, kind, actor, data, webhooked_at) VALUES `)
	} else {
		sb.WriteString(`INSERT INTO events (case_id, at, kind, actor, data) VALUES `)
	}
	args := make([]any, 0, 6*len(es))
	for i, e := range es {
		if i > 0 {
			sb.WriteString(", ")
		}
		args = append(args, e.caseID, e.at, e.kind, e.actor, e.data)
		if handedOver {
			sb.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, e.at)
		} else {
			sb.WriteString("(?, ?, ?, ?, ?)")
		}
	}
	return sb.String(), args
}

// WriteEventsHandedOver says whether events are written as handed to the
// webhook fan-out already, at their own time: with no subscription
// configured none is ever sent, and marking each event later
// (MarkAllEventsWebhooked) rewrote every event and its indexes.
func (s *Store) WriteEventsHandedOver(on bool) { s.eventsHandedOver.Store(on) }

// flushPending writes the transaction's waiting writes (writeLater),
// events and outbox rows (EnqueueLater) before its commit and before any
// statement of its that names one of their tables, so that it reads what
// it wrote; outside a transaction none wait.
func (q queries) flushPending(ctx context.Context, query string) error {
	tx := q.tx
	if tx == nil || len(tx.events) == 0 && len(tx.outbox) == 0 && len(tx.later) == 0 ||
		query != "" && !tx.namesPending(query) {
		return nil
	}
	ws, es, rows := tx.later, tx.events, tx.outbox
	tx.later, tx.events, tx.outbox = nil, nil, nil
	if q.d.name == "postgres" && len(es) <= eventsPerStatement && len(rows) <= outboxRowsPerStatement {
		return q.flushAsOne(ctx, ws, es, rows)
	}
	for _, w := range ws {
		if err := q.writeNow(ctx, w); err != nil {
			return err
		}
	}
	if err := q.insertEvents(ctx, es); err != nil {
		return err
	}
	rows, err := q.coalesceOutbox(ctx, rows)
	if err != nil {
		return err
	}
	for len(rows) > 0 {
		batch := rows[:min(len(rows), outboxRowsPerStatement)]
		rows = rows[len(batch):]
		obq, obargs := q.d.outboxInsert(batch)
		if err := q.insertOutbox(ctx, obq, obargs, batch); err != nil {
			return err
		}
	}
	return nil
}

// flushAsOne makes a transaction's waiting writes, events and outbox rows
// in one PostgreSQL statement, each a data-modifying WITH clause: one round
// trip and one statement for all. A coalescing row pulls its waiting row
// forward, or is written when none waits, in the same statement.
func (q queries) flushAsOne(ctx context.Context, ws []laterWrite, es []pendingEvent, rows []outboxRow) error {
	type part struct{ name, query string }
	var parts []part
	var outs, guards []string
	var args []any
	for i, w := range ws {
		query := w.query
		if w.guard {
			// Read first: the parts the result does not read run after it,
			// and those it reads after it, in the order it reads them.
			guards = append(guards, fmt.Sprintf("SELECT 0, %s WHERE NOT ringback_expect(EXISTS (SELECT 1 FROM later_%d), 'later_%d')", flushedNone, i, i))
			parts = append(parts, part{fmt.Sprintf("later_%d", i), query})
			args = append(args, w.args...)
			continue
		}
		if (w.counted != nil || w.expect || w.lock && len(rows) > 0) && !w.check {
			query += " RETURNING 1"
		}
		if w.counted != nil {
			outs = append(outs, fmt.Sprintf("SELECT %d, %s FROM later_%d", i, flushedNone, i))
		}
		if w.expect {
			// No row: ringback_expect fails the statement, and with it
			// every write in it.
			outs = append(outs, fmt.Sprintf("SELECT 0, %s WHERE NOT ringback_expect(EXISTS (SELECT 1 FROM later_%d), 'later_%d')", flushedNone, i, i))
		}
		parts = append(parts, part{fmt.Sprintf("later_%d", i), query})
		args = append(args, w.args...)
	}
	for i, w := range ws {
		if w.lock && len(rows) > 0 && !w.check && !w.guard {
			// Read (whole, returning nothing) before the outbox rows'
			// branches: the row is locked before they take their ids.
			outs = append(outs, fmt.Sprintf("SELECT %d, %s FROM (SELECT count(*) FROM later_%d) AS locked (n) WHERE n < 0", i, flushedNone, i))
		}
	}
	if len(es) > 0 {
		evq, evargs := q.eventsInsert(es)
		parts = append(parts, part{"written_events", evq})
		args = append(args, evargs...)
	}
	if q.tx != nil && q.tx.lazy && q.d.lazyCommit != "" {
		// A branch of the statement's result, so that it runs (a WITH
		// clause that reads would not); it returns no row.
		outs = append(outs, "SELECT 0, "+flushedNone+" WHERE NOT (true"+q.d.lazyCommit+")")
	}
	plain, coalescing := coalescingRows(rows)
	for j, r := range coalescing {
		// A handed-over waiting row (handOver) is neither pulled forward
		// nor replaced; it comes back whole, as a claim returns it.
		unless := ""
		if r.handoff != nil {
			query, hargs := q.d.handOver(r)
			parts = append(parts, part{fmt.Sprintf("handed_%d", j), query + ` RETURNING ` + outboxColumns})
			args = append(args, hargs...)
			outs = append(outs, fmt.Sprintf("SELECT %d, %s FROM handed_%d", handedWrite-j, outboxColumns, j))
			unless = fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM handed_%d)", j)
		}
		parts = append(parts,
			part{fmt.Sprintf("pulled_%d", j), pullForwardSQL + unless + pulledSQL},
			part{fmt.Sprintf("held_%d", j), fmt.Sprintf(`INSERT INTO outbox (`+outboxInsertColumns+`) SELECT `+outboxInsertValues+`
				WHERE NOT EXISTS (SELECT 1 FROM pulled_%d WHERE unseen)%s ON CONFLICT (dedupe_key) DO NOTHING RETURNING lane, run_at`, j, unless)})
		args = append(args, r.runAt, r.runAt, r.now, *r.caseID, r.kind)
		args = append(args, r.args()...)
		outs = append(outs, fmt.Sprintf("SELECT -1, %s FROM pulled_%d", flushedDue, j), fmt.Sprintf("SELECT -1, %s FROM held_%d", flushedDue, j))
	}
	if len(plain) > 0 {
		obq, obargs := q.d.outboxInsert(plain)
		parts = append(parts, part{"written", obq})
		args = append(args, obargs...)
		outs = append(outs, "SELECT -1, "+flushedWritten+" FROM written")
	}
	outs = append(guards, outs...)
	with := func(parts []part) string {
		if len(parts) == 0 {
			return ""
		}
		clauses := make([]string, len(parts))
		for i, p := range parts {
			clauses[i] = p.name + " AS (" + p.query + ")"
		}
		return "WITH " + strings.Join(clauses, ", ") + " "
	}
	if len(outs) == 0 {
		// Nothing to read back: the last write is the statement itself.
		query := with(parts[:len(parts)-1]) + parts[len(parts)-1].query
		if _, err := q.exec(ctx, query, args...); err != nil {
			return q.flushFailed(ws, es, rows, err)
		}
		return nil
	}
	var got []struct {
		Write int `db:"write"`
		passedRow
	}
	query := with(parts) + "SELECT * FROM (" + strings.Join(outs, " UNION ALL ") + ") AS flushed (write, " + outboxColumns + ")"
	if err := q.selectAll(ctx, &got, query, args...); err != nil {
		return q.flushFailed(ws, es, rows, err)
	}
	changed := make([]int64, len(ws))
	var woken []laneDue
	for _, g := range got {
		if g.Write <= handedWrite {
			q.tx.handedPulled(coalescing[handedWrite-g.Write], *g.item())
			continue
		}
		if g.Write >= 0 {
			changed[g.Write]++
		} else if g.RunAt != nil {
			w := laneDue{Lane: deref(g.Lane), RunAt: *g.RunAt}
			if g.ID != nil {
				w.ID, w.DedupeKey, w.State = *g.ID, deref(g.DedupeKey), deref(g.State)
			}
			woken = append(woken, w)
		}
	}
	woken = q.tx.handedWritten(woken, plain)
	for i, w := range ws {
		if w.counted != nil {
			w.counted(changed[i])
		}
	}
	q.wokenBy(woken)
	return nil
}

// handedWrite - j is the write column of coalescing row j's handed-over
// row among the rows a flush reads back (flushAsOne).
const handedWrite = -2

// outboxColumnTypes are the outbox's columns (outboxColumns) as
// PostgreSQL types them, for the NULLs of a flushed row.
var outboxColumnTypes = map[string]string{"id": "bigint", "kind": "text", "dedupe_key": "text", "payload": "text",
	"case_id": "bigint", "state": "text", "attempts": "integer", "max_attempts": "integer", "run_at": "timestamptz",
	"locked_by": "text", "claim_seq": "bigint", "lane": "text", "last_error": "text", "created_at": "timestamptz",
	"updated_at": "timestamptz"}

// The column lists of the rows flushAsOne reads back after their write
// column: outboxColumns, those a kind of row gives read from its WITH
// clause and the rest NULL. Built once: a flush runs per transaction.
var (
	flushedNone    = flushedColumns()                                             // a later write's
	flushedDue     = flushedColumns("lane", "run_at")                             // a pulled or held row's
	flushedWritten = flushedColumns(strings.Split(outboxWrittenColumns, ", ")...) // a written row's
)

func flushedColumns(given ...string) string {
	cols := strings.Split(outboxColumns, ", ")
	for i, c := range cols {
		if !slices.Contains(given, c) {
			cols[i] = "NULL::" + outboxColumnTypes[c]
		}
	}
	return strings.Join(cols, ", ")
}

// flushFailed words the error of the statement that made ws, es and rows.
func (q queries) flushFailed(ws []laterWrite, es []pendingEvent, rows []outboxRow, err error) error {
	var what []string
	for _, w := range ws {
		// The write it concerns, as ErrDuplicate or ErrChangedMeanwhile.
		if f := w.failed(q.d, err); errors.Is(f, ErrDuplicate) || errors.Is(f, ErrChangedMeanwhile) {
			return f
		}
		what = append(what, w.what)
	}
	if len(es) > 0 {
		what = append(what, fmt.Sprintf("add event %s to case %d", es[0].kind, es[0].caseID))
	}
	if len(rows) > 0 {
		what = append(what, fmt.Sprintf("enqueue %s %q", rows[0].kind, rows[0].dedupeKey))
	}
	return fmt.Errorf("store: %s: %w", strings.Join(what, ", "), err)
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
