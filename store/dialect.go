package store

import "github.com/jmoiron/sqlx"

// dialect keeps the few real differences between the engines in one place.
type dialect struct {
	name string
	bind int
	// lockSkip follows the SELECT that picks outbox rows to claim: PostgreSQL
	// lets concurrent workers skip each other's rows; SQLite has one writer.
	lockSkip string
	// forUpdate locks the rows a transaction read; SQLite's immediate
	// transactions already hold the only write lock.
	forUpdate string
	// epoch turns a timestamp expression into seconds since 1970.
	epoch func(expr string) string
	// lazyCommit, a condition that always holds, makes the transaction of
	// the statement whose WHERE it ends commit without waiting for its WAL
	// to reach the disk: one flush fewer per record. It ends the
	// statements that record what a remote side effect did (a post, a
	// text's SID) or end the outbox row that made it. Should PostgreSQL
	// itself crash in the moment before such a commit reaches the disk (up
	// to three wal_writer_delays, 600 ms by default), the record is lost as
	// if the process had died before making it: the row runs again, finds
	// the side effect at the remote and adopts it, as it does then. What is
	// recorded before a side effect (a send start, a card reservation, a
	// post's first attempt) and webhooks' transactions (acknowledged to
	// the sender) commit synchronously, and each such commit flushes every
	// earlier one; but for claims that start no send (a lost one is
	// claimed again) and receipts that move a text on (Tx.CommitLazily: a
	// lost one is asked for).
	// SQLite (WAL, synchronous=NORMAL) syncs at checkpoints only already.
	lazyCommit string
}

var (
	postgres = dialect{
		name:      "postgres",
		bind:      sqlx.DOLLAR,
		lockSkip:  " FOR UPDATE SKIP LOCKED",
		forUpdate: " FOR UPDATE",
		epoch:     func(e string) string { return "EXTRACT(EPOCH FROM " + e + ")" },
		// A one-time filter: evaluated once, before the rows.
		lazyCommit: " AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL",
	}
	sqlite = dialect{
		name:  "sqlite",
		bind:  sqlx.QUESTION,
		epoch: func(e string) string { return "((julianday(" + e + ") - 2440587.5) * 86400.0)" },
	}
)

func (d dialect) rebind(query string) string {
	if d.bind == sqlx.QUESTION {
		return query
	}
	return sqlx.Rebind(d.bind, query)
}

// outboxBy is the outbox (as alias, unless "") read through index. SQLite
// is told to: with no statistics (Ringback never analyzes it) it read the
// whole table by row id for a claim, to return rows in id order, and for a
// card's newer-row check; with statistics skewed by rows of no case (all
// one value to it) it did the same for a case's rows. Either way every
// done row of the outbox's retention was read, per claim or per thread
// entry. PostgreSQL's planner, which knows the NULLs apart, is left to
// choose.
func (d dialect) outboxBy(alias, index string) string {
	from := "outbox"
	if alias != "" {
		from += " " + alias
	}
	if d.name == "sqlite" {
		from += " INDEXED BY " + index
	}
	return from
}
