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
}

var (
	postgres = dialect{
		name:      "postgres",
		bind:      sqlx.DOLLAR,
		lockSkip:  " FOR UPDATE SKIP LOCKED",
		forUpdate: " FOR UPDATE",
		epoch:     func(e string) string { return "EXTRACT(EPOCH FROM " + e + ")" },
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
