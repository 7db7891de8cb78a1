package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message directions.
const (
	Inbound  = "in"
	Outbound = "out"
)

// Message is one SMS, to or from a caller.
type Message struct {
	ID           int64      `db:"id"`
	SID          *string    `db:"sid"`
	CaseID       *int64     `db:"case_id"`
	Direction    string     `db:"direction"`
	Kind         string     `db:"kind"`
	LineNumber   string     `db:"line_number"`
	CallerNumber string     `db:"caller_number"`
	Body         string     `db:"body"`
	MediaURLs    string     `db:"media_urls"`
	TemplateKey  string     `db:"template_key"`
	SentBy       string     `db:"sent_by"`
	Status       string     `db:"status"`
	ErrorCode    string     `db:"error_code"`
	AcceptedAt   *time.Time `db:"accepted_at"`
	// SendStartedAt is when the first attempt to send it began (nil: never
	// tried); a re-run asks the provider before sending again.
	SendStartedAt *time.Time `db:"send_started_at"`
	// Problem is why the text failed, in the bot's words ("" when it did not).
	Problem   string    `db:"problem"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

const messageColumns = `id, sid, case_id, direction, kind, line_number, caller_number, body, media_urls,
	template_key, sent_by, status, error_code, problem, accepted_at, send_started_at, created_at, updated_at`

// messageFacts are what MessageToSend reads of a message's number beside
// it: opted out, and why it cannot take texts ("" when it can).
const messageFacts = `EXISTS (SELECT 1 FROM opt_outs o WHERE o.number = messages.caller_number) AS opted_out,
	COALESCE((SELECT u.reason FROM untextable_numbers u WHERE u.number = messages.caller_number), '') AS untextable`

// messageColumnsFrom are messageColumns of the outer side t of a join,
// named with prefix, their zero values where t has no row (PostgreSQL).
func messageColumnsFrom(t, prefix string) string {
	return outerColumns(t, prefix, messageColumns, map[string]string{
		"sid": "", "case_id": "", "accepted_at": "", "send_started_at": "",
		"id": "0", "created_at": "'epoch'::timestamptz", "updated_at": "'epoch'::timestamptz"})
}

// outerColumns are columns of the outer side t of a join, named with
// prefix, each COALESCEd with its zero value in zeros (” when not
// listed; a column listed with "" is nullable already).
func outerColumns(t, prefix, columns string, zeros map[string]string) string {
	var cols []string
	for _, c := range strings.Split(columns, ",") {
		c = strings.TrimSpace(c)
		expr := t + "." + c
		zero, listed := zeros[c]
		if !listed {
			zero = "''"
		}
		if zero != "" {
			expr = "COALESCE(" + expr + ", " + zero + ")"
		}
		cols = append(cols, expr+` AS "`+prefix+c+`"`)
	}
	return strings.Join(cols, ", ")
}

// InsertMessage writes a message and sets its ID. An inbound message whose
// SID is known already (a retried webhook) is not written: inserted is false.
//
// A message whose id was drawn beforehand (NewCaseFacts) is written at the
// commit of the transaction, with its events and outbox rows.
func (q queries) InsertMessage(ctx context.Context, m *Message) (inserted bool, err error) {
	if m.ID != 0 && q.tx != nil {
		return true, q.writeLater(ctx, laterWrite{table: "messages", what: fmt.Sprintf("insert message %d", m.ID), query: `
			INSERT INTO messages (id, sid, case_id, direction, kind, line_number, caller_number, body, media_urls,
				template_key, sent_by, status, error_code, problem, accepted_at, send_started_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			args: []any{m.ID, m.SID, m.CaseID, m.Direction, m.Kind, m.LineNumber, m.CallerNumber, m.Body, m.MediaURLs,
				m.TemplateKey, m.SentBy, m.Status, m.ErrorCode, m.Problem, utcp(m.AcceptedAt), utcp(m.SendStartedAt), m.CreatedAt.UTC(), m.UpdatedAt.UTC()}})
	}
	inserted, err = q.insertID(ctx, &m.ID, `
		INSERT INTO messages (sid, case_id, direction, kind, line_number, caller_number, body, media_urls,
			template_key, sent_by, status, error_code, problem, accepted_at, send_started_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO NOTHING
		RETURNING id`,
		m.SID, m.CaseID, m.Direction, m.Kind, m.LineNumber, m.CallerNumber, m.Body, m.MediaURLs,
		m.TemplateKey, m.SentBy, m.Status, m.ErrorCode, m.Problem, utcp(m.AcceptedAt), utcp(m.SendStartedAt), m.CreatedAt.UTC(), m.UpdatedAt.UTC())
	if err != nil {
		return false, fmt.Errorf("store: insert message: %w", err)
	}
	return inserted, nil
}

// MessageByID returns message id.
func (q queries) MessageByID(ctx context.Context, id int64) (Message, error) {
	var m Message
	err := q.get(ctx, &m, `SELECT `+messageColumns+` FROM messages WHERE id = ?`+q.d.forUpdate, id)
	return m, notFound(err, "store: message %d", id)
}

// MessageToSend returns message id with whether its number opted out and
// why it cannot receive SMS ("" when it can), in one statement: what a
// send reads before it calls out. With startAt set it also records, in the
// same statement, that an attempt to send begins then (StartSend) unless
// an earlier one began: the message's SendStartedAt tells which.
func (q queries) MessageToSend(ctx context.Context, id int64, startAt time.Time) (m Message, optedOut bool, untextable string, err error) {
	var row struct {
		Message
		OptedOut   bool   `db:"opted_out"`
		Untextable string `db:"untextable"`
	}
	if startAt.IsZero() {
		err = q.get(ctx, &row, `SELECT `+prefixed("messages", messageColumns)+`, `+messageFacts+` FROM messages WHERE id = ?`, id)
	} else {
		err = q.get(ctx, &row, `UPDATE messages SET send_started_at = COALESCE(send_started_at, ?) WHERE id = ?
			RETURNING `+messageColumns+`, `+messageFacts, startAt.UTC(), id)
	}
	return row.Message, row.OptedOut, row.Untextable, notFound(err, "store: message %d", id)
}

// ForgetSendStart drops the record that an attempt to send message id
// began at startedAt, an attempt the provider refused, while outbox row
// it's claim is still current (the row locked meanwhile, so a worker
// taking the row over reads the record after this, or leaves it). A
// record of another start, or under a claim taken over, stays.
func (q queries) ForgetSendStart(ctx context.Context, id int64, startedAt time.Time, it OutboxItem) error {
	_, err := q.exec(ctx, `UPDATE messages SET send_started_at = NULL WHERE id = ? AND send_started_at = ?
		AND EXISTS (SELECT 1 FROM outbox WHERE id = ? AND state = 'running' AND claim_seq = ?`+q.d.forUpdate+`)`,
		id, startedAt.UTC(), it.ID, it.ClaimSeq)
	if err != nil {
		return fmt.Errorf("store: forget the send start of message %d: %w", id, err)
	}
	return nil
}

// MessageBySID returns the message Twilio knows as sid.
func (q queries) MessageBySID(ctx context.Context, sid string) (Message, error) {
	var m Message
	err := q.get(ctx, &m, `SELECT `+messageColumns+` FROM messages WHERE sid = ?`+q.d.forUpdate, sid)
	return m, notFound(err, "store: message %s", sid)
}

// ReadMessageBySID returns the message sent under sid as it stands,
// without locking it: for a write that checks, as it is made, that the
// message is still as read (UpdateMessageAsRead).
func (q queries) ReadMessageBySID(ctx context.Context, sid string) (Message, error) {
	var m Message
	err := q.get(ctx, &m, `SELECT `+messageColumns+` FROM messages WHERE sid = ?`, sid)
	return m, notFound(err, "store: message %s", sid)
}

// UpdateMessageAsRead writes m's delivery status (status, error code,
// problem) at the commit of the transaction, with its other waiting writes
// (on PostgreSQL: no statement of its own), on the condition that the
// message is still as was, read before, shows it. When it is not — a
// receipt or a settlement moved it meanwhile — the commit fails with
// ErrChangedMeanwhile and nothing of the transaction stays: read it again
// and decide again.
func (tx *Tx) UpdateMessageAsRead(ctx context.Context, was, m Message) error {
	sid := ""
	if was.SID != nil {
		sid = *was.SID
	}
	return tx.writeLater(ctx, laterWrite{table: "messages", expect: true, what: fmt.Sprintf("update message %d as read", m.ID),
		query: `UPDATE messages SET status = ?, error_code = ?, problem = ?, updated_at = ?
			WHERE id = ? AND status = ? AND error_code = ? AND problem = ? AND COALESCE(sid, '') = ?`,
		args: []any{m.Status, m.ErrorCode, m.Problem, m.UpdatedAt.UTC(), was.ID, was.Status, was.ErrorCode, was.Problem, sid}})
}

// UpdateMessage writes a message's delivery fields.
func (q queries) UpdateMessage(ctx context.Context, m Message) error {
	_, err := q.exec(ctx, `UPDATE messages SET sid = ?, body = ?, status = ?, error_code = ?, problem = ?, accepted_at = ?, updated_at = ? WHERE id = ?`,
		m.SID, m.Body, m.Status, m.ErrorCode, m.Problem, utcp(m.AcceptedAt), m.UpdatedAt.UTC(), m.ID)
	if err != nil {
		return fmt.Errorf("store: update message %d: %w", m.ID, err)
	}
	return nil
}

// AcceptMessage records that the provider took message id under sid,
// with status, at now, and returns the message as it is then, locked: one
// statement where reading and writing it take two. A message still pending
// takes status; one settled meanwhile keeps its own. recorded is false, and
// nothing is written, when the message holds sid as accepted already (a
// worker whose claim overlapped this one's recorded it) or is gone.
//
// receiptWaits tells whether a receipt for sid came before this (it waits
// in early_receipts for TakeReceipt): the same statement looks, so that a
// text without one costs no statement more.
func (q queries) AcceptMessage(ctx context.Context, id int64, sid, status string, now time.Time) (m Message, recorded, receiptWaits bool, err error) {
	return q.acceptMessage(ctx, "", id, sid, status, now)
}

// acceptMessage is AcceptMessage with filter, a condition of its own (its
// arguments last in args), added to the statement's.
func (q queries) acceptMessage(ctx context.Context, filter string, id int64, sid, status string, now time.Time, args ...any) (m Message, recorded, receiptWaits bool, err error) {
	var ms []struct {
		Message
		ReceiptWaits bool `db:"receipt_waits"`
	}
	err = q.selectAll(ctx, &ms, `UPDATE messages SET sid = ?, status = CASE WHEN status = 'pending' THEN ? ELSE status END,
			accepted_at = ?, updated_at = ?
		WHERE id = ? AND NOT (sid IS NOT NULL AND sid = ? AND accepted_at IS NOT NULL)`+filter+`
		RETURNING `+messageColumns+`, EXISTS (SELECT 1 FROM early_receipts WHERE sid = ?) AS receipt_waits`,
		append(append([]any{sid, status, now.UTC(), now.UTC(), id, sid}, args...), sid)...)
	if err != nil {
		return Message{}, false, false, fmt.Errorf("store: accept message %d as %s: %w", id, sid, err)
	}
	if len(ms) == 0 {
		return Message{}, false, false, nil
	}
	return ms[0].Message, true, ms[0].ReceiptWaits, nil
}

// ErrReceiptWaits fails the commit of a transaction that recorded a text's
// SID with AcceptMessageLocked while a receipt for that SID was kept in a
// moment its statement could not see: run it again, LockMessageSID first.
var ErrReceiptWaits = errors.New("store: a receipt for the text waits; record it again")

// AcceptMessageLocked is LockMessageSID then AcceptMessage, in one
// statement on PostgreSQL (the lock its one-time filter). That statement
// sees the early receipts committed before it began (receiptWaits), not
// one kept while it waited for the lock: the commit looks again, in the
// statement making the transaction's writes, and fails with
// ErrReceiptWaits if one waits (FailCommitIf). SQLite's transactions write one at a time:
// AcceptMessage tells.
func (tx *Tx) AcceptMessageLocked(ctx context.Context, id int64, sid, status string, now time.Time) (m Message, recorded, receiptWaits bool, err error) {
	if tx.d.name != "postgres" {
		return tx.AcceptMessage(ctx, id, sid, status, now)
	}
	m, recorded, receiptWaits, err = tx.acceptMessage(ctx, ` AND (SELECT pg_advisory_xact_lock(?, hashtext(?))) IS NOT NULL`,
		id, sid, status, now, sidLockClass, sid)
	if err == nil && !receiptWaits {
		// One seen here is taken after the lock, newest as it is then.
		tx.FailCommitIf("early_receipts", `SELECT 1 FROM early_receipts WHERE sid = ?`, []any{sid}, ErrReceiptWaits)
	}
	return m, recorded, receiptWaits, err
}

// AcceptMessageAsRead records, at the commit, that the provider took
// message m, as the caller read it, under sid with status at now, and
// returns the message as it is then (a pending text takes status; one
// settled meanwhile keeps its own). On PostgreSQL it sends no statement
// of its own: the write goes with the transaction's others, and a
// transaction that reads nothing first commits in that one statement
// (InTx), the SID's lock and the look for an early receipt in it
// (ringback_receipt_waits, migration 36). The commit fails with
// ErrChangedMeanwhile, nothing of it written, when that is not what it
// records: m changed since it was read, its SID was recorded already, or
// a receipt for sid waits (the caller runs it again as AcceptMessageLocked
// does, which handles all three). SQLite records it at once.
func (tx *Tx) AcceptMessageAsRead(ctx context.Context, m Message, sid, status string, now time.Time) (Message, error) {
	if m.AcceptedAt != nil {
		return Message{}, fmt.Errorf("store: accept message %d as %s: recorded already: %w", m.ID, sid, ErrChangedMeanwhile)
	}
	if tx.d.name != "postgres" {
		got, recorded, receiptWaits, err := tx.AcceptMessage(ctx, m.ID, sid, status, now)
		if err == nil && (!recorded || receiptWaits) {
			err = fmt.Errorf("store: accept message %d as %s: %w", m.ID, sid, ErrChangedMeanwhile)
		}
		return got, err
	}
	err := tx.writeLater(ctx, laterWrite{table: "messages", expect: true, what: fmt.Sprintf("accept message %d as %s", m.ID, sid),
		query: `UPDATE messages SET sid = ?, status = CASE WHEN status = 'pending' THEN ? ELSE status END, accepted_at = ?, updated_at = ?
			WHERE id = ? AND status = ? AND error_code = ? AND problem = ? AND body = ? AND accepted_at IS NULL
			AND NOT (SELECT ringback_receipt_waits(?, ?))`,
		args: []any{sid, status, now.UTC(), now.UTC(), m.ID, m.Status, m.ErrorCode, m.Problem, m.Body, sidLockClass, sid}})
	if err != nil {
		return Message{}, err
	}
	if m.Status == "pending" {
		m.Status = status
	}
	at := now.UTC()
	m.SID, m.AcceptedAt, m.UpdatedAt = &sid, &at, at
	return m, nil
}

// StartSend records that an attempt to send message id begins at `at`,
// unless an earlier attempt began already, and returns when the first one
// began. The caller commits it before calling the provider, so that a re-run
// after a crash knows the provider may hold the text already.
func (q queries) StartSend(ctx context.Context, id int64, at time.Time) (time.Time, error) {
	res, err := q.exec(ctx, `UPDATE messages SET send_started_at = ? WHERE id = ? AND send_started_at IS NULL`, at.UTC(), id)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: start sending message %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return at, nil
	}
	m, err := q.MessageByID(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if m.SendStartedAt == nil {
		return time.Time{}, fmt.Errorf("store: start sending message %d: not recorded", id)
	}
	return *m.SendStartedAt, nil
}

// MessagesForCase lists a case's messages, oldest first.
func (q queries) MessagesForCase(ctx context.Context, caseID int64) ([]Message, error) {
	var ms []Message
	err := q.selectAll(ctx, &ms, `SELECT `+messageColumns+` FROM messages WHERE case_id = ? ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: messages of case %d: %w", caseID, err)
	}
	return ms, nil
}

// LastTextBack is when the number was last sent an automatic text-back that
// was not refused (zero: never), for the cooldown that spans every line.
func (q queries) LastTextBack(ctx context.Context, number string) (time.Time, error) {
	var ts []time.Time
	err := q.selectAll(ctx, &ts, `SELECT created_at FROM messages
		WHERE caller_number = ? AND kind = 'textback' AND direction = 'out' AND status NOT IN ('failed', 'canceled')
		ORDER BY created_at DESC LIMIT 1`, number)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: last text-back to %s: %w", number, err)
	}
	if len(ts) == 0 {
		return time.Time{}, nil
	}
	return ts[0], nil
}

// SentMessagesOfKind counts outgoing messages of a kind to a number since a
// time, leaving out those that failed, bounced or were canceled: a text the
// caller never got does not answer them.
func (q queries) SentMessagesOfKind(ctx context.Context, number, kind string, since time.Time) (int, error) {
	var n int
	err := q.get(ctx, &n, `SELECT COUNT(*) FROM messages WHERE caller_number = ? AND kind = ? AND direction = 'out' AND created_at >= ?
		AND status NOT IN ('undelivered', 'failed', 'canceled')`,
		number, kind, since.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: count %s messages: %w", kind, err)
	}
	return n, nil
}

// UpdateMessageCase attaches a message to a case.
func (q queries) UpdateMessageCase(ctx context.Context, id, caseID int64) error {
	if _, err := q.exec(ctx, `UPDATE messages SET case_id = ? WHERE id = ?`, caseID, id); err != nil {
		return fmt.Errorf("store: attach message %d to case %d: %w", id, caseID, err)
	}
	return nil
}

// CaseHasInbound reports whether the caller has texted on the case.
func (q queries) CaseHasInbound(ctx context.Context, caseID int64) (bool, error) {
	return q.exists(ctx, `SELECT 1 FROM messages WHERE case_id = ? AND direction = 'in'`, caseID)
}

// FirstHumanContact is when the case's first human contact was (nil: none
// yet): the earliest staff reply the provider accepted and did not report
// failed, or logged callback (DESIGN.md's "human contact").
func (q queries) FirstHumanContact(ctx context.Context, caseID int64) (*time.Time, error) {
	var replies, callbacks []time.Time
	if err := q.selectAll(ctx, &replies, `SELECT accepted_at FROM messages
		WHERE case_id = ? AND direction = 'out' AND kind = 'template' AND accepted_at IS NOT NULL
			AND status NOT IN ('undelivered', 'failed', 'canceled')
		ORDER BY accepted_at LIMIT 1`, caseID); err != nil {
		return nil, fmt.Errorf("store: first reply of case %d: %w", caseID, err)
	}
	if err := q.selectAll(ctx, &callbacks, `SELECT at FROM events WHERE case_id = ? AND kind = 'callback' ORDER BY at LIMIT 1`, caseID); err != nil {
		return nil, fmt.Errorf("store: first callback of case %d: %w", caseID, err)
	}
	var first *time.Time
	for _, ts := range [][]time.Time{replies, callbacks} {
		if len(ts) == 1 && (first == nil || ts[0].Before(*first)) {
			at := ts[0].UTC()
			first = &at
		}
	}
	return first, nil
}

// TextsAwaitingReceipt lists up to limit outgoing texts the provider
// accepted at or after since and before until whose status is not final
// (accepted, queued, sending, sent): those a final receipt may never have
// reached, oldest first.
func (q queries) TextsAwaitingReceipt(ctx context.Context, since, until time.Time, limit int) ([]Message, error) {
	var ms []Message
	err := q.selectAll(ctx, &ms, `SELECT `+messageColumns+` FROM messages
		WHERE direction = 'out' AND accepted_at IS NOT NULL AND accepted_at >= ? AND accepted_at < ?
		AND status IN ('accepted', 'queued', 'sending', 'sent') AND sid IS NOT NULL
		ORDER BY accepted_at, id LIMIT ?`, since.UTC(), until.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: texts awaiting a receipt: %w", err)
	}
	return ms, nil
}
