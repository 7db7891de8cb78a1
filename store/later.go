package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

// ErrDuplicate is a deferred insert's key that another transaction wrote
// first: the transaction rolled back, and running it again finds that row.
var ErrDuplicate = errors.New("store: written meanwhile by another transaction")

// laterWrite is an INSERT or UPDATE a transaction makes at its commit,
// with its events and outbox rows: on PostgreSQL all of them are one
// statement (data-modifying WITH clauses), so each costs no round trip and
// no statement of its own. Only for writes whose result the transaction
// does not read back.
type laterWrite struct {
	table string // the table written: a statement naming it flushes first
	query string // no RETURNING; `?` placeholders
	args  []any
	what  string // for errors: "insert call CA…"
	// unique: a unique violation on table means another transaction wrote
	// this row's key first (ErrDuplicate) rather than a fault.
	unique bool
	// counted, when set, is told how many rows the write changed, before
	// the commit (so only what follows a commit may act on it).
	counted func(rows int64)
	// check: query is a SELECT, not a write; counted is told how many rows
	// it found (FailCommitIf).
	check bool
	// expect: the write is made on what the transaction read before, so it
	// must change a row; if it changes none the statement making it fails
	// whole, with ErrChangedMeanwhile, and nothing of it stays.
	expect bool
	// guard: query is a SELECT that must find a row, as expect's write
	// must change one: if it finds none the statement fails whole, with ErrChangedMeanwhile.
	// It runs first in the statement, so that a lock it takes comes before
	// any of the statement's writes (GuardTextBack).
	guard bool
	// lock: the write locks a row that a card's reservation waits for (a
	// case). In one statement (flushAsOne) it is made before the outbox
	// rows take their ids, which PostgreSQL would otherwise draw first and
	// lock the case only as the statement ends: a reservation in between
	// would record a newer row as seen without seeing this change, and
	// skip the refresh of it (store.ReserveCard).
	lock bool
}

// ErrChangedMeanwhile fails a transaction that wrote on what it read
// before (a text's acceptance as read: Tx.AcceptMessageAsRead) when that
// had changed: nothing it did stays; read again and run it again.
var ErrChangedMeanwhile = errors.New("store: changed since it was read")

// expectSQLState is the SQLSTATE ringback_expect fails with (migration 36).
const expectSQLState = "RBX01"

// FailCommitIf runs query, a SELECT of table, at the commit, in the
// statement that makes the transaction's waiting writes (on PostgreSQL:
// no statement of its own): if it finds a row, the transaction rolls back
// and InTx returns err. It reads what was committed when that statement
// began, later than anything the transaction read before.
func (tx *Tx) FailCommitIf(table, query string, args []any, err error) {
	tx.later = append(tx.later, laterWrite{table: table, query: query, args: args, what: "check " + table, check: true,
		counted: func(rows int64) {
			if rows > 0 && tx.abort == nil {
				tx.abort = err
			}
		}})
}

// writeLater runs query at the commit of q's transaction, or at once
// outside one. A transaction holds one waiting write per table: a second
// to the same table writes the first now, because PostgreSQL leaves the
// outcome undefined when one statement changes a row twice.
func (q queries) writeLater(ctx context.Context, w laterWrite) error {
	if q.tx == nil {
		return q.writeNow(ctx, w)
	}
	for _, p := range q.tx.later {
		if p.table == w.table {
			if err := q.flushPending(ctx, ""); err != nil {
				return err
			}
			break
		}
	}
	q.tx.later = append(q.tx.later, w)
	return nil
}

// writeNow runs w as a statement of its own.
func (q queries) writeNow(ctx context.Context, w laterWrite) error {
	if w.guard {
		found, err := q.exists(ctx, w.query, w.args...)
		if err == nil && !found {
			err = ErrChangedMeanwhile
		}
		return w.failed(q.d, err)
	}
	if w.check {
		found, err := q.exists(ctx, w.query, w.args...)
		if err != nil {
			return w.failed(q.d, err)
		}
		w.counted(map[bool]int64{false: 0, true: 1}[found])
		return nil
	}
	res, err := q.exec(ctx, w.query, w.args...)
	if err != nil {
		return w.failed(q.d, err)
	}
	if w.expect {
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return w.failed(q.d, cmp.Or(err, ErrChangedMeanwhile))
		}
	}
	if w.counted != nil {
		n, err := res.RowsAffected()
		if err != nil {
			return w.failed(q.d, err)
		}
		w.counted(n)
	}
	return nil
}

// failed words err, the error of running w (nil: nil).
func (w laterWrite) failed(d dialect, err error) error {
	if err == nil {
		return nil
	}
	if w.unique && uniqueViolation(d, err, w.table) {
		return fmt.Errorf("store: %s: %w", w.what, ErrDuplicate)
	}
	var pe *pq.Error
	if (w.expect || w.guard) && (errors.Is(err, ErrChangedMeanwhile) || errors.As(err, &pe) && pe.Code == expectSQLState) {
		return fmt.Errorf("store: %s: %w", w.what, ErrChangedMeanwhile)
	}
	return fmt.Errorf("store: %s: %w", w.what, err)
}

// namesPending reports whether query names a table the transaction has
// writes waiting for, so that it reads (or writes after) what they wrote,
// or is a write while writes wait: a row it writes may refer to one of
// theirs (an outbox row to a case written at the commit) without naming
// its table.
func (tx *Tx) namesPending(query string) bool {
	if len(tx.events) > 0 && strings.Contains(query, "events") ||
		len(tx.outbox) > 0 && strings.Contains(query, "outbox") {
		return true
	}
	if len(tx.later) > 0 && writes(query) {
		return true
	}
	for _, w := range tx.later {
		if strings.Contains(query, w.table) {
			return true
		}
	}
	return false
}

// statementVerb is query's first word, upper case: what kind of statement
// it is.
func statementVerb(query string) string {
	w, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	return strings.ToUpper(w)
}

// uniqueViolation reports whether err is a unique constraint of table that
// refused a row.
func uniqueViolation(d dialect, err error, table string) bool {
	if d.name == "postgres" {
		var pe *pq.Error
		return errors.As(err, &pe) && pe.Code == "23505" && pe.Table == table
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed: "+table+".")
}
