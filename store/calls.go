package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Call is one inbound call event, answered or not.
type Call struct {
	ID           int64     `db:"id"`
	SID          string    `db:"sid"`
	Provider     string    `db:"provider"`
	LineNumber   string    `db:"line_number"`
	Routed       bool      `db:"routed"`
	CallerNumber string    `db:"caller_number"`
	Status       string    `db:"status"`
	Missed       bool      `db:"missed"`
	AfterHours   bool      `db:"after_hours"`
	StartedAt    time.Time `db:"started_at"`
	DurationS    int       `db:"duration_s"`
	VoicemailURL string    `db:"voicemail_url"`
	Transcript   string    `db:"transcript"`
	CaseID       *int64    `db:"case_id"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

const callColumns = `id, sid, provider, line_number, routed, caller_number, status, missed, after_hours,
	started_at, duration_s, voicemail_url, transcript, case_id, created_at, updated_at`

// InsertCall writes a call unless its SID is known already (a retried
// webhook); inserted tells which, and c.ID is set either way.
func (q queries) InsertCall(ctx context.Context, c *Call) (inserted bool, err error) {
	inserted, err = q.insertID(ctx, &c.ID, `
		INSERT INTO calls (sid, provider, line_number, routed, caller_number, status, missed, after_hours,
			started_at, duration_s, voicemail_url, transcript, case_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO NOTHING
		RETURNING id`,
		c.SID, c.Provider, c.LineNumber, c.Routed, c.CallerNumber, c.Status, c.Missed, c.AfterHours,
		c.StartedAt.UTC(), c.DurationS, c.VoicemailURL, c.Transcript, c.CaseID, c.CreatedAt.UTC(), c.UpdatedAt.UTC())
	if err != nil {
		return false, fmt.Errorf("store: insert call %s: %w", c.SID, err)
	}
	return inserted, nil
}

// InsertCallLater writes a new call at the commit of the transaction
// (with its events and outbox rows: one statement on PostgreSQL). When a
// concurrent report of the same call wrote it first, the commit fails with
// ErrDuplicate and the transaction is to run again.
func (tx *Tx) InsertCallLater(ctx context.Context, c Call) error {
	return tx.writeLater(ctx, laterWrite{table: "calls", unique: true, what: "insert call " + c.SID, query: `
		INSERT INTO calls (sid, provider, line_number, routed, caller_number, status, missed, after_hours,
			started_at, duration_s, voicemail_url, transcript, case_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: []any{c.SID, c.Provider, c.LineNumber, c.Routed, c.CallerNumber, c.Status, c.Missed, c.AfterHours,
			c.StartedAt.UTC(), c.DurationS, c.VoicemailURL, c.Transcript, c.CaseID, c.CreatedAt.UTC(), c.UpdatedAt.UTC()}})
}

// UpdateCall writes a call's changing fields (in a transaction, at its
// commit).
func (q queries) UpdateCall(ctx context.Context, c Call) error {
	return q.writeLater(ctx, laterWrite{table: "calls", what: "update call " + c.SID, query: `
		UPDATE calls SET status = ?, missed = ?, duration_s = ?, voicemail_url = ?, transcript = ?, case_id = ?, updated_at = ?
		WHERE id = ?`,
		args: []any{c.Status, c.Missed, c.DurationS, c.VoicemailURL, c.Transcript, c.CaseID, c.UpdatedAt.UTC(), c.ID}})
}

// CallBySID returns the call with the provider's id, locked in a transaction.
func (q queries) CallBySID(ctx context.Context, sid string) (Call, error) {
	var c Call
	err := q.get(ctx, &c, `SELECT `+callColumns+` FROM calls WHERE sid = ?`+q.d.forUpdate, sid)
	return c, notFound(err, "store: call %s", sid)
}

// CallReading is what a report of a call needs to know (ReadCallReport).
type CallReading struct {
	Call *Call // nil: a call not seen before
	// Read with the call when asked (opens): the caller's open case on the
	// line, whole and locked; else the id of their latest case there (nil:
	// none) and the facts of a new case, its ids drawn when a case opens.
	Opens    bool
	Open     *Case
	Previous *int64
	Facts    CallerFacts
}

// ReadCallReport reads, for a report of call sid from caller on line, the
// call, locked; with lock first the caller's lock; and with opens (the
// report may open a case) the caller's case and facts as CallerCaseFacts
// does, drawing the new case's ids only if the call is not already
// missed and no case of the caller's is open. One statement on
// PostgreSQL (the lock its one-time filter): the facts there are read as
// they were before the lock (CallerFacts.BeforeLock), so a decision that
// another text-back made meanwhile would change is checked at the commit
// (GuardTextBack). SQLite reads them in turn, in its one writer's
// transaction.
func (tx *Tx) ReadCallReport(ctx context.Context, sid, caller, line string, lock, opens bool) (CallReading, error) {
	r := CallReading{Opens: opens}
	if tx.d.name != "postgres" {
		c, err := tx.CallBySID(ctx, sid)
		switch {
		case err == nil:
			r.Call = &c
		case !errors.Is(err, ErrNotFound):
			return r, err
		}
		if !opens {
			return r, nil
		}
		r.Open, r.Previous, r.Facts, err = tx.CallerCaseFacts(ctx, caller, line)
		return r, err
	}
	row, err := tx.readCallReport(ctx, tx.queries, sid, caller, line, opens, false, lock && !tx.callers[caller])
	if err != nil {
		return r, err
	}
	if row.Found {
		r.Call = &row.Call
	}
	if !opens {
		return r, nil
	}
	r.Facts = row.facts()
	r.Facts.BeforeLock = row.locked
	if row.FoundID != nil {
		tx.holds(*row.FoundID)
		if *row.FoundState != CaseClosed {
			c, err := tx.CaseByID(ctx, *row.FoundID)
			r.Open = &c
			return r, err
		}
		r.Previous = row.FoundID
	}
	return r, nil
}

// ReadCallReportAsRead reads, for a report that call sid from caller on
// line was missed, what ReadCallReport does with opens, but outside the
// transaction and locking nothing, so that a new case's intake commits in
// its one write statement, without a BEGIN and a COMMIT around a locking
// read (issue 17). It serves only the common case, and says so (ok): the
// call is new and the caller has no open case on the line. Then the ids
// of the new case are drawn, and the writes check what the read found:
// the call's and the open case's unique keys (ErrDuplicate), and the
// text-back's cooldown, its facts read before the caller's lock
// (BeforeLock: GuardTextBack, ErrChangedMeanwhile). When either fails,
// nothing of it was written, and the report runs again with
// ReadCallReport. Otherwise (!ok) nothing was drawn, and the caller reads
// with ReadCallReport in the transaction. On SQLite, whose one writer's
// transaction reads at no round trip's cost, it is never ok and sends
// nothing.
func (tx *Tx) ReadCallReportAsRead(ctx context.Context, sid, caller, line string, cooldown bool) (r CallReading, ok bool, err error) {
	if tx.d.name != "postgres" || caller == "" || tx.tx != nil {
		return CallReading{}, false, nil
	}
	row, err := tx.readCallReport(ctx, tx.s.queries, sid, caller, line, true, true, false)
	if err != nil || row.Found || row.FoundID != nil && *row.FoundState != CaseClosed {
		return CallReading{}, false, err
	}
	r = CallReading{Opens: true, Previous: row.FoundID, Facts: row.facts()}
	r.Facts.BeforeLock = cooldown
	return r, true, nil
}

// callReportRow is a row of readCallReport.
type callReportRow struct {
	Found bool `db:"call_found"`
	Call  Call `db:"c"`
	callerFactsRow
	FoundID    *int64  `db:"found_id"`
	FoundState *string `db:"found_state"`
	locked     bool    // the statement took the caller's lock
}

// readCallReport is ReadCallReport's statement on PostgreSQL, sent
// through q: as read (asRead) it locks no row and draws a new case's ids
// only for a call not seen before; with locking it takes the caller's
// lock first.
func (tx *Tx) readCallReport(ctx context.Context, q queries, sid, caller, line string, opens, asRead, locking bool) (callReportRow, error) {
	var row callReportRow
	forUpdate := " FOR UPDATE"
	// Ids are drawn only for a case that opens: a repeat call's would
	// leave a gap in the case numbers people see.
	draw := `(cl.missed IS NULL OR NOT cl.missed) AND (cs.state IS NULL OR cs.state = 'closed')`
	if asRead {
		forUpdate, draw = "", `cl.id IS NULL AND (cs.state IS NULL OR cs.state = 'closed')`
	}
	query := `SELECT cl.id IS NOT NULL AS call_found, ` + outerColumns("cl", "c.", callColumns, map[string]string{
		"id": "0", "routed": "false", "missed": "false", "after_hours": "false", "duration_s": "0", "case_id": "",
		"started_at": "'epoch'::timestamptz", "created_at": "'epoch'::timestamptz", "updated_at": "'epoch'::timestamptz"})
	var args []any
	if opens {
		query += `, ` + tx.d.callerFactsColumns() + `,
			CASE WHEN ` + draw + ` THEN nextval('cases_id_seq') ELSE 0 END AS case_id,
			CASE WHEN ` + draw + ` THEN nextval('messages_id_seq') ELSE 0 END AS message_id,
			cs.id AS found_id, cs.state AS found_state`
		args = callerFactsColumnArgs(caller)
	} else {
		query += `, NULL AS contact_id, NULL AS name, NULL AS kind, NULL AS property, NULL AS unit, false AS spam, false AS opted_out,
			'' AS untextable, NULL AS last_textback, 0 AS templates, 0 AS case_id, 0 AS message_id, NULL::bigint AS found_id, NULL AS found_state`
	}
	query += ` FROM (SELECT 1 AS one) one
		LEFT JOIN LATERAL (SELECT ` + callColumns + ` FROM calls WHERE sid = ?` + forUpdate + `) cl ON true`
	args = append(args, sid)
	if opens {
		query += ` ` + callerFactsJoins + `
		LEFT JOIN LATERAL (SELECT id, state FROM cases WHERE caller_number = ? AND line_number = ?
			ORDER BY CASE WHEN state <> 'closed' THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1` + forUpdate + `) cs ON true`
		args = append(args, caller, caller, line)
	}
	if locking {
		query += ` WHERE (SELECT pg_advisory_xact_lock(?, hashtext(?))) IS NOT NULL`
		args = append(args, callerLockClass, caller)
	}
	if err := q.get(ctx, &row, query, args...); err != nil {
		return row, fmt.Errorf("store: call %s and its caller's case: %w", sid, err)
	}
	if locking {
		tx.holdsCaller(caller)
		row.locked = true
	}
	return row, nil
}

// CallsForCase lists a case's calls, oldest first.
func (q queries) CallsForCase(ctx context.Context, caseID int64) ([]Call, error) {
	var cs []Call
	err := q.selectAll(ctx, &cs, `SELECT `+callColumns+` FROM calls WHERE case_id = ? ORDER BY started_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: calls of case %d: %w", caseID, err)
	}
	return cs, nil
}
