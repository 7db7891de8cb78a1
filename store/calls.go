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
	return q.callBySID(ctx, sid, "")
}

func (q queries) callBySID(ctx context.Context, sid, filter string, args ...any) (Call, error) {
	var c Call
	err := q.get(ctx, &c, `SELECT `+callColumns+` FROM calls WHERE sid = ?`+filter+q.d.forUpdate, append([]any{sid}, args...)...)
	return c, notFound(err, "store: call %s", sid)
}

// LockedCallBySID is LockCaller(caller) then CallBySID, in one statement
// on PostgreSQL: the lock is the statement's one-time filter, taken before
// the scan, found or not. The call is read as committed when the statement
// began (a report of the same call committed while it waited for the lock
// then fails this one's insert, ErrDuplicate, and the report runs again);
// the statements after it read what the caller's previous holder wrote.
func (tx *Tx) LockedCallBySID(ctx context.Context, sid, caller string) (Call, error) {
	if tx.d.name != "postgres" || tx.callers[caller] {
		return tx.CallBySID(ctx, sid)
	}
	c, err := tx.callBySID(ctx, sid, ` AND (SELECT pg_advisory_xact_lock(?, hashtext(?))) IS NOT NULL`, callerLockClass, caller)
	if err == nil || errors.Is(err, ErrNotFound) {
		tx.holdsCaller(caller)
	}
	return c, err
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
