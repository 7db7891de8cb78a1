package store

import (
	"context"
	"fmt"
	"time"
)

// Receipt is a delivery status that arrived before its message's SID was
// recorded.
type Receipt struct {
	SID        string    `db:"sid"`
	Status     string    `db:"status"`
	Problem    string    `db:"problem"` // the bot's word for why it failed, if it did
	ErrorCode  string    `db:"error_code"`
	ReceivedAt time.Time `db:"received_at"`
}

// sidLockClass is the first key of message SIDs' advisory locks.
const sidLockClass = 0x52424302

// LockMessageSID holds sid's lock until the transaction ends. The worker
// recording a text's SID and a receipt for that SID take it first, so a
// receipt that finds no message yet is kept before the worker looks for
// early receipts, or waits and finds the message. Without it a receipt
// could be kept just after the worker looked, and never applied.
// SQLite needs none: its transactions take the one write lock up front.
func (tx *Tx) LockMessageSID(ctx context.Context, sid string) error {
	if tx.d.name != "postgres" {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(?))`, sidLockClass, sid); err != nil {
		return fmt.Errorf("store: lock message %s: %w", sid, err)
	}
	return nil
}

// LockedMessageBySID is LockMessageSID then MessageBySID, in one
// statement on PostgreSQL (ringback_message_locked, migration 37): the
// function's query runs once the lock is held, so it finds a SID that a
// transaction holding the lock recorded while this one waited.
func (tx *Tx) LockedMessageBySID(ctx context.Context, sid string) (Message, error) {
	if tx.d.name != "postgres" {
		return tx.MessageBySID(ctx, sid)
	}
	var m Message
	err := tx.get(ctx, &m, `SELECT `+messageColumns+` FROM ringback_message_locked(?, ?)`, sidLockClass, sid)
	return m, notFound(err, "store: message %s", sid)
}

// KeepReceipt stores an early receipt; a later one for the same SID
// replaces it (the bot orders statuses when it applies them).
func (q queries) KeepReceipt(ctx context.Context, r Receipt) error {
	_, err := q.exec(ctx, `INSERT INTO early_receipts (sid, status, problem, error_code, received_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET status = excluded.status, problem = excluded.problem, error_code = excluded.error_code,
			received_at = excluded.received_at`,
		r.SID, r.Status, r.Problem, r.ErrorCode, r.ReceivedAt.UTC())
	if err != nil {
		return fmt.Errorf("store: keep receipt %s: %w", r.SID, err)
	}
	return nil
}

// TakeReceipt returns and removes the early receipt of sid, if any.
func (q queries) TakeReceipt(ctx context.Context, sid string) (Receipt, bool, error) {
	var rs []Receipt
	if err := q.selectAll(ctx, &rs, `SELECT sid, status, problem, error_code, received_at FROM early_receipts WHERE sid = ?`, sid); err != nil {
		return Receipt{}, false, fmt.Errorf("store: receipt %s: %w", sid, err)
	}
	if len(rs) == 0 {
		return Receipt{}, false, nil
	}
	if _, err := q.exec(ctx, `DELETE FROM early_receipts WHERE sid = ?`, sid); err != nil {
		return Receipt{}, false, fmt.Errorf("store: take receipt %s: %w", sid, err)
	}
	return rs[0], true, nil
}
