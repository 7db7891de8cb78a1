// Package store remembers: calls, cases, messages, the audit trail, contacts,
// opt-outs, templates, the outbox and leases, on PostgreSQL (lib/pq) or on an
// embedded SQLite file (modernc.org/sqlite, pure Go).
//
// Queries are written once with `?` placeholders in SQL both engines accept
// and rebound for the engine in one place; what genuinely differs sits behind
// the small dialect type.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"    // PostgreSQL driver and LISTEN/NOTIFY
	_ "modernc.org/sqlite" // embedded SQLite driver
)

// ErrNotFound is returned when a row asked for by its key does not exist.
var ErrNotFound = errors.New("store: not found")

// DefaultSQLitePath is the embedded database used when DATABASE_URL is unset.
const DefaultSQLitePath = "ringback.db"

// Store is the database. It is safe for concurrent use.
type Store struct {
	queries
	db      *sqlx.DB
	dsn     string
	signals *signals
	gate    *connGate // the connections' turns, webhooks first

	stmts, preparing sync.Map // query → *sqlx.Stmt; query → true
	// prepares are the statements being prepared in the background, which
	// Close ends (stopPrepares) and waits for: none touches the database
	// after Close returns (on SQLite, its files). prepareCtx ended: the
	// store closes, and starts no more (under prepareMu).
	prepares     sync.WaitGroup
	prepareMu    sync.Mutex
	stopPrepares context.CancelFunc
	prepareCtx   context.Context
	counter      atomic.Pointer[Statements] // set while statements are counted
	templates    templateCache
	// eventsHandedOver: events are written as handed to the webhook
	// fan-out already (WriteEventsHandedOver).
	eventsHandedOver atomic.Bool

	instance    string    // random; the payload of this store's NOTIFYs
	presence    *presence // whether other replicas listen for them
	notifyOnce  sync.Once
	notifyCh    chan struct{}
	notifyMu    sync.Mutex
	notifyWakes map[string]time.Time
}

// Tx is a transaction; the same queries as Store, committed together.
type Tx struct {
	queries
	// ctx is InTx's: the transaction begins with it (begin).
	ctx context.Context
	// tx is nil until the first statement (conn); autocommit: the one
	// statement making the waiting writes commits alone (commitAlone).
	tx         *sqlx.Tx
	release    func() // ends tx's turn on the connection (Store.turn)
	autocommit bool
	// wroteTemplates keeps the transaction's own view of the templates out
	// of the cache: it may roll back.
	wroteTemplates bool
	// events and outbox rows wait to be written together (AddEvent,
	// EnqueueLater).
	events []pendingEvent
	outbox []outboxRow
	// later holds writes made at the commit with them (writeLater).
	later []laterWrite
	// locked holds the cases this transaction locked or created.
	locked map[int64]bool
	// callers holds the callers whose lock the transaction holds.
	callers map[string]bool
	// abort, when set by FailCommitIf, rolls the transaction back.
	abort error
	// lazy: the commit need not wait for its WAL flush (CommitLazily).
	lazy bool
	// wakes holds the lanes the transaction enqueued work on, with when it
	// falls due, so the commit wakes the workers of those lanes at once
	// instead of leaving them to the safety-net poll.
	wakes map[string]time.Time
	// handoffs are the rows written claimed by a local worker
	// (OutboxHandoff), started at the commit.
	handoffs []*handoff
}

// postgresConns is how many statements and transactions a replica runs
// on PostgreSQL at once.
const postgresConns = 20

// Open connects to databaseURL: postgres:// or postgresql:// selects
// PostgreSQL; "" selects the SQLite file ringback.db; sqlite:PATH or
// file:PATH selects another SQLite file (":memory:" is refused: each pooled
// connection would see its own database).
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	d, driver, dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	db, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", d.name, err)
	}
	conns := postgresConns
	if d.name == "sqlite" {
		// SQLite has one writer: queueing in Go is far quicker than its busy
		// handler, which sleeps in steps of up to 100 ms while another writes.
		conns = 1
		db.SetMaxOpenConns(conns)
	} else {
		// The gate hands out conns; the pool keeps two more for what
		// passes it (a NOTIFY, the migrations).
		db.SetMaxOpenConns(conns + 2)
		db.SetMaxIdleConns(conns + 2)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", d.name, err)
	}
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	s := &Store{db: db, dsn: dsn, signals: newSignals(), instance: hex.EncodeToString(rb[:]), presence: newPresence()}
	s.prepareCtx, s.stopPrepares = context.WithCancel(context.Background())
	s.gate = newConnGate(conns)
	s.queries = queries{ext: db, d: d, s: s}
	return s, nil
}

func parseURL(raw string) (d dialect, driver, dsn string, err error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return postgres, "postgres", raw, nil
	case raw == "":
		return sqliteDSN(DefaultSQLitePath)
	case strings.HasPrefix(raw, "sqlite:"):
		return sqliteDSN(strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//"))
	case strings.HasPrefix(raw, "file:"):
		return sqliteDSN(strings.TrimPrefix(raw, "file:"))
	default:
		return dialect{}, "", "", fmt.Errorf("store: DATABASE_URL must start with postgres:// (or be unset for SQLite)")
	}
}

func sqliteDSN(path string) (dialect, string, string, error) {
	if path == "" || strings.Contains(path, ":memory:") {
		return dialect{}, "", "", fmt.Errorf("store: SQLite needs a file path, got %q", path)
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	q := url.Values{}
	// WAL lets readers run beside the writer; immediate transactions take the
	// write lock up front so two writers queue on busy_timeout instead of
	// failing with SQLITE_BUSY half-way through.
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	// A "file:" name is a URI to SQLite: a "#" would end the path there (a
	// test's directory named "…sqlite#01" became a file shared by every
	// run), and "%" starts an escape.
	path = strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
	return sqlite, "sqlite", "file:" + path + "?" + q.Encode(), nil
}

// turn waits for a connection's turn (connGate), foreground requests
// first; release ends it.
func (s *Store) turn(ctx context.Context) (release func(), err error) {
	if err := s.gate.acquire(ctx); err != nil {
		return nil, fmt.Errorf("store: wait for the connection: %w", err)
	}
	c, start := ClassOf(ctx), time.Now()
	return func() { s.gate.end(c, time.Since(start)) }, nil
}

// Dialect names the engine: "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.d.name }

// DB is the underlying handle, for migrations and health checks.
func (s *Store) DB() *sqlx.DB { return s.db }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	release, err := s.turn(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the database and the outbox listener.
func (s *Store) Close() error {
	s.presence.closed.Store(true)
	s.signals.close()
	s.prepareMu.Lock()
	s.stopPrepares()
	s.prepareMu.Unlock()
	s.prepares.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction: all of its writes commit, or none do.
// The transaction begins with its first statement, not before: on
// PostgreSQL one whose only statement is the one making its waiting
// writes (writeLater, AddEvent, EnqueueLater) sends that statement alone,
// which commits as it ends, without a BEGIN and a COMMIT around it (two
// round trips fewer: issue 17).
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx := &Tx{ctx: ctx}
	tx.queries = queries{d: s.d, s: s, tx: tx}
	defer func() {
		if p := recover(); p != nil {
			// Not left open: on SQLite it holds the one connection's turn,
			// which nothing else would end; nor its handed rows' slots.
			_ = tx.end(false)
			tx.settleHandoffs(false)
			panic(p)
		}
	}()
	err := fn(tx)
	if err == nil && tx.tx == nil && tx.alone() {
		return tx.commitAlone(ctx)
	}
	if err == nil {
		err = tx.flushPending(ctx, "")
	}
	if err == nil {
		err = tx.abort // FailCommitIf found its row
	}
	if err != nil {
		_ = tx.end(false)
		tx.settleHandoffs(false)
		return err
	}
	if tx.tx == nil {
		return nil // it sent nothing, and nothing waits
	}
	if err := tx.end(true); err != nil {
		// Whether it committed is unknown: a handed row that did is
		// claimed by nobody running it, and runs once its lease lapses.
		tx.settleHandoffs(false)
		return fmt.Errorf("store: commit: %w", err)
	}
	tx.committed()
	return nil
}

// end commits or rolls back tx's transaction and ends its turn on the
// connection, once; it does nothing when none was begun.
func (tx *Tx) end(commit bool) error {
	if tx.release == nil {
		return nil // not begun, or ended already
	}
	defer func() { tx.release(); tx.release = nil }()
	if commit {
		tx.s.note("COMMIT")
		return tx.tx.Commit()
	}
	tx.s.note("ROLLBACK")
	return tx.tx.Rollback()
}

// CommitLazily lets tx commit without waiting for its WAL flush, on
// PostgreSQL: for writes whose loss with the database itself (a crash in
// the moment before the flush) something else makes good. It applies to
// the statement making tx's waiting writes, which it must have.
func (tx *Tx) CommitLazily() { tx.lazy = true }

// begin starts tx's transaction, before its first statement: with the
// context InTx was given, which ends it, not the statement's.
func (tx *Tx) begin() error {
	release, err := tx.s.turn(tx.ctx)
	if err != nil {
		return err
	}
	tx.s.note("BEGIN")
	sqltx, err := tx.s.db.BeginTxx(tx.ctx, nil)
	if err != nil {
		release()
		return fmt.Errorf("store: begin: %w", err)
	}
	tx.tx, tx.release = sqltx, release
	return nil
}

// alone reports whether what tx waits to write, when it has sent no
// statement yet, is one PostgreSQL statement that can commit on its own:
// a check (FailCommitIf) rolls back after its statement, so it needs the
// transaction.
func (tx *Tx) alone() bool {
	if tx.d.name != "postgres" || len(tx.events) > eventsPerStatement || len(tx.outbox) > outboxRowsPerStatement ||
		len(tx.later)+len(tx.events)+len(tx.outbox) == 0 {
		return false
	}
	for _, w := range tx.later {
		if w.check {
			return false
		}
	}
	return true
}

// commitAlone makes tx's waiting writes in one statement outside a
// transaction: it commits as it ends, or fails whole.
func (tx *Tx) commitAlone(ctx context.Context) error {
	tx.autocommit = true
	ws, es, rows := tx.later, tx.events, tx.outbox
	tx.later, tx.events, tx.outbox = nil, nil, nil
	if err := tx.flushAsOne(ctx, ws, es, rows); err != nil {
		// A statement that failed wrote nothing; one cut off on its way
		// may have committed: a handed row that did runs once its lease
		// lapses, as after a lost COMMIT.
		tx.settleHandoffs(false)
		return err
	}
	tx.committed()
	return nil
}

// committed is what follows tx's commit: the counter, the workers woken,
// the rows handed over started.
func (tx *Tx) committed() {
	if c := tx.s.counter.Load(); c != nil {
		c.commit()
	}
	if len(tx.wakes) > 0 {
		tx.s.wake(tx.wakes)
	}
	tx.settleHandoffs(true)
}

// conn is where q sends a statement: the pool outside a transaction (and
// for a transaction's one statement committing alone), else the
// transaction, begun now if it has not been.
func (q queries) conn() (sqlx.ExtContext, error) {
	switch {
	case q.tx == nil:
		return q.ext, nil
	case q.tx.autocommit:
		return q.s.db, nil
	case q.tx.tx == nil:
		if err := q.tx.begin(); err != nil {
			return nil, err
		}
	}
	return q.tx.tx, nil
}

// queries holds every statement; Store runs them on the pool, Tx inside
// its transaction.
type queries struct {
	ext sqlx.ExtContext
	d   dialect
	s   *Store
	tx  *Tx // nil outside a transaction
}

func (q queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := q.flushPending(ctx, query); err != nil {
		return nil, err
	}
	args, err := sane(args)
	if err != nil {
		return nil, err
	}
	ext, err := q.conn()
	if err != nil {
		return nil, err
	}
	if q.tx == nil {
		release, err := q.s.turn(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	q.countedIn(query, args)
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return ext.ExecContext(ctx, q.d.rebind(query), args...)
}

func (q queries) get(ctx context.Context, dest any, query string, args ...any) error {
	if err := q.flushPending(ctx, query); err != nil {
		return err
	}
	args, err := sane(args)
	if err != nil {
		return err
	}
	ext, err := q.conn()
	if err != nil {
		return err
	}
	if q.tx == nil {
		release, err := q.s.turn(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	q.countedIn(query, args)
	if st := q.stmt(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return sqlx.GetContext(ctx, ext, dest, q.d.rebind(query), args...)
}

func (q queries) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	if err := q.flushPending(ctx, query); err != nil {
		return err
	}
	args, err := sane(args)
	if err != nil {
		return err
	}
	ext, err := q.conn()
	if err != nil {
		return err
	}
	if q.tx == nil {
		release, err := q.s.turn(ctx)
		if err != nil {
			return err
		}
		defer release()
	}
	q.countedIn(query, args)
	if st := q.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return sqlx.SelectContext(ctx, ext, dest, q.d.rebind(query), args...)
}

// insertID runs an INSERT … ON CONFLICT … DO NOTHING RETURNING id and sets
// *id to the new row's id; inserted is false, and *id left alone, when the
// conflict kept the row out.
func (q queries) insertID(ctx context.Context, id *int64, query string, args ...any) (inserted bool, err error) {
	var ids []int64
	if err := q.selectAll(ctx, &ids, query, args...); err != nil {
		return false, err
	}
	if len(ids) == 0 {
		return false, nil
	}
	*id = ids[0]
	return true, nil
}

// startPrepare counts a background prepare in, unless the store closes.
func (s *Store) startPrepare() bool {
	s.prepareMu.Lock()
	defer s.prepareMu.Unlock()
	if s.prepareCtx.Err() != nil {
		return false
	}
	s.prepares.Add(1)
	return true
}

// stmt is the prepared statement of query, bound to the transaction when
// there is one; nil until it has been prepared. A statement is prepared in
// the background the first time it is asked for, so that a transaction
// never waits for a second connection (SQLite has only one). Both engines
// then skip parsing and planning it again: on SQLite that was about a
// third of the CPU a webhook cost.
func (q queries) stmt(ctx context.Context, query string) *sqlx.Stmt {
	v, ok := q.s.stmts.Load(query)
	if !ok {
		if _, busy := q.s.preparing.LoadOrStore(query, true); !busy {
			if !q.s.startPrepare() {
				q.s.preparing.Delete(query)
				return nil
			}
			go func() {
				defer q.s.prepares.Done()
				pctx, cancel := context.WithTimeout(q.s.prepareCtx, 10*time.Second)
				defer cancel()
				release, err := q.s.turn(pctx)
				if err != nil {
					q.s.preparing.Delete(query)
					return
				}
				st, err := q.s.db.PreparexContext(pctx, q.d.rebind(query))
				release()
				if err != nil {
					q.s.preparing.Delete(query)
					return
				}
				q.s.stmts.Store(query, st)
			}()
		}
		return nil
	}
	st := v.(*sqlx.Stmt)
	if q.tx != nil && q.tx.tx != nil {
		return q.tx.tx.StmtxContext(ctx, st)
	}
	return st
}

// Prepared is how many statements the store holds prepared.
func (s *Store) Prepared() int {
	n := 0
	s.stmts.Range(func(any, any) bool { n++; return true })
	return n
}

// notFound turns sql.ErrNoRows into ErrNotFound, wrapping other errors.
func notFound(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// signals wakes outbox workers: locally after a commit, and (PostgreSQL) when
// another replica's commit NOTIFYs. It gathers the lanes that got work
// meanwhile, each with when its earliest new row falls due, so a worker
// asks the database only about those.
type signals struct {
	ch        chan struct{}
	closeOnce sync.Once
	stop      []func()
	mu        sync.Mutex
	listening *pq.Listener

	wakeMu sync.Mutex
	wakes  map[string]time.Time
}

// AnyLane, as a lane of OutboxWakes, means work may have come on any lane
// (a notice that said no more, or a listener that reconnected).
const AnyLane = "*"

func newSignals() *signals {
	return &signals{ch: make(chan struct{}, 1), wakes: map[string]time.Time{}}
}

// local notes that lanes got work (due at the times given) and wakes the
// workers.
func (g *signals) local(lanes map[string]time.Time) {
	g.wakeMu.Lock()
	addWakes(g.wakes, lanes)
	g.wakeMu.Unlock()
	select {
	case g.ch <- struct{}{}:
	default: // a wake-up is already pending; one is enough
	}
}

// take returns the lanes noted since the last take.
func (g *signals) take() map[string]time.Time {
	g.wakeMu.Lock()
	defer g.wakeMu.Unlock()
	w := g.wakes
	g.wakes = map[string]time.Time{}
	return w
}

// addWakes merges lanes into into, keeping each lane's earliest time.
func addWakes(into, lanes map[string]time.Time) {
	for lane, at := range lanes {
		if was, ok := into[lane]; !ok || at.Before(was) {
			into[lane] = at
		}
	}
}

func (g *signals) onClose(f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stop = append(g.stop, f)
}

func (g *signals) close() {
	g.closeOnce.Do(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, f := range g.stop {
			f()
		}
	})
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
