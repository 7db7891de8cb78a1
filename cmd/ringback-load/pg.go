package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver: per-run databases and statistics

	"ringback/cmd/internal/harness"
)

// pgServer is the PostgreSQL server the runs create their databases on: a
// private cluster (the default) or -database-url's server.
type pgServer struct {
	cluster *harness.Cluster // nil for -database-url
	url     *url.URL         // any database of the server
	admin   *sql.DB          // its "postgres" database
	local   bool             // on this machine: its processes are in /proc
	// statements: pg_stat_statements is loaded and its view created;
	// otherwise why not.
	statements   bool
	statementsNo string
}

// openPGServer starts a private cluster with pg_stat_statements preloaded,
// reached through its Unix socket when socket is set, or connects to
// databaseURL's server.
func openPGServer(ctx context.Context, databaseURL string, socket bool) (*pgServer, error) {
	s := &pgServer{}
	if databaseURL == "" {
		cl, err := harness.NewCluster(ctx, "shared_preload_libraries=pg_stat_statements",
			// Planning is where a statement's cost hides when its plan is
			// not cached: counted apart from execution.
			"pg_stat_statements.track_planning=on",
			// A run's WAL stays readable after it (indexEntriesOf), past
			// the checkpoints that would recycle it.
			"wal_keep_size=2GB")
		if err != nil {
			if cl != nil {
				_ = cl.Remove()
			}
			return nil, err
		}
		s.cluster = cl
		databaseURL = cl.URL
		if socket {
			databaseURL = cl.SocketDSN("ringback")
		}
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("-database-url: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		s.close()
		return nil, fmt.Errorf("-database-url: scheme %q is not postgres", u.Scheme)
	}
	s.url = u
	h := u.Hostname()
	s.local = s.cluster != nil || h == "" || h == "localhost" || strings.HasPrefix(h, "/") || net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback()
	if s.admin, err = sql.Open("postgres", s.dsn("postgres")); err != nil {
		s.close()
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	s.admin.SetMaxOpenConns(2)
	s.statements, s.statementsNo = s.enableStatements(ctx)
	return s, nil
}

// enableStatements creates pg_stat_statements' view where the library is
// loaded; otherwise it says why statements cannot be counted.
func (s *pgServer) enableStatements(ctx context.Context) (bool, string) {
	var libs string
	if err := s.admin.QueryRowContext(ctx, "SHOW shared_preload_libraries").Scan(&libs); err != nil {
		return false, "shared_preload_libraries unreadable: " + err.Error()
	}
	if !strings.Contains(libs, "pg_stat_statements") {
		return false, "pg_stat_statements is not in the server's shared_preload_libraries"
	}
	if _, err := s.admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return false, "CREATE EXTENSION pg_stat_statements: " + err.Error()
	}
	return true, ""
}

func (s *pgServer) dsn(db string) string {
	u := *s.url
	u.Path = "/" + db
	return u.String()
}

// where names the server for a message: its host, or its socket's folder.
func (s *pgServer) where() string {
	if s.url.Host != "" {
		return s.url.Host
	}
	return s.url.Query().Get("host")
}

func (s *pgServer) close() {
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cluster != nil {
		_ = s.cluster.Remove()
	}
}

// createDatabase creates ringback_load_<random>, a copy of template when
// not "".
func (s *pgServer) createDatabase(ctx context.Context, template string) (string, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "ringback_load_" + hex.EncodeToString(b[:])
	q := "CREATE DATABASE " + name // ours: lower-case letters, digits and _
	if template != "" {
		q += " TEMPLATE " + template
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := s.admin.ExecContext(cctx, q); err != nil {
		return "", fmt.Errorf("create database %s on %s: %w", name, s.where(), err)
	}
	if template != "" {
		// The copy of a seeded template (a million outbox rows) leaves its
		// pages for the checkpointer to write: done during the run, it
		// stalled commits for up to 300 ms, a cost of the copy, not of the
		// calls measured.
		if _, err := s.admin.ExecContext(cctx, "CHECKPOINT"); err != nil {
			return name, fmt.Errorf("checkpoint after copying %s on %s: %w", template, s.where(), err)
		}
	}
	return name, nil
}

// dropDatabase removes it, disconnecting whoever is still connected.
func (s *pgServer) dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// cpu is the CPU time PostgreSQL has used so far for database db: every
// process of a private cluster (whatever it works for, WAL writer and
// checkpointer included), else the backends connected to db now (a
// backend that leaves in between takes its time with it). ok is false when
// the server's processes are not on this machine.
func (s *pgServer) cpu(ctx context.Context, db string) (map[int]time.Duration, bool) {
	if s.cluster != nil {
		t, ok := s.cluster.CPUTime()
		return map[int]time.Duration{0: t}, ok
	}
	if !s.local {
		return nil, false
	}
	rows, err := s.admin.QueryContext(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", db)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	cpu := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return nil, false
		}
		if t, ok := harness.ProcessCPU(pid); ok {
			cpu[pid] = t
		}
	}
	return cpu, rows.Err() == nil && len(cpu) > 0
}

// cpuByKind is the private cluster's CPU time by kind of process
// (harness.Cluster.CPUByKind); ok is false on -database-url's server.
func (s *pgServer) cpuByKind() (map[string]time.Duration, bool) {
	if s.cluster == nil {
		return nil, false
	}
	return s.cluster.CPUByKind()
}

// cpuBetween is the CPU time used from reading a to reading b (processes
// that appeared in between count from zero).
func cpuBetween(a, b map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range b {
		d += t - a[pid]
	}
	return d
}

// pgCounters are the server's cumulative counters a run is measured by.
type pgCounters struct {
	walSync, walWrite, walRecords, walBytes int64
	commits                                 int64 // of the run's database
	// sessions is how many connections to the run's database were opened
	// (pg_stat_database.sessions, PostgreSQL 14 and later; -1 before).
	sessions int64
	lsn      string // the WAL's end when read
}

// counters reads pg_stat_wal (server-wide: on a shared server, other
// databases' writes count too) and the database's commits. Backends report
// them when they go idle, up to a second late (ten when idle): read them
// after the server has stopped and a moment has passed.
func (s *pgServer) counters(ctx context.Context, db string) (pgCounters, error) {
	var c pgCounters
	err := s.admin.QueryRowContext(ctx, `SELECT w.wal_sync, w.wal_write, w.wal_records, w.wal_bytes::bigint, d.xact_commit
		FROM pg_stat_wal w, pg_stat_database d WHERE d.datname = $1`, db).
		Scan(&c.walSync, &c.walWrite, &c.walRecords, &c.walBytes, &c.commits)
	if err != nil {
		return c, fmt.Errorf("read pg_stat_wal: %w", err)
	}
	if err := s.admin.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&c.lsn); err != nil {
		return c, fmt.Errorf("read the WAL's end: %w", err)
	}
	// A column of its own: older servers have no sessions.
	if err := s.admin.QueryRowContext(ctx, `SELECT sessions FROM pg_stat_database WHERE datname = $1`, db).Scan(&c.sessions); err != nil {
		c.sessions = -1
	}
	return c, nil
}

// resetStatements empties pg_stat_statements.
func (s *pgServer) resetStatements(ctx context.Context) error {
	if !s.statements {
		return nil
	}
	if _, err := s.admin.ExecContext(ctx, "SELECT pg_stat_statements_reset()"); err != nil {
		return fmt.Errorf("reset pg_stat_statements: %w", err)
	}
	return nil
}

// statement is one normalized statement and how often it ran.
type statement struct {
	Query string `json:"query"`
	Calls int64  `json:"calls"`
	// Millis is the statement's total execution time (total_exec_time):
	// where the database's CPU went, which the count alone does not say.
	Millis float64 `json:"total_ms"`
	// PlanMillis is its total planning time (total_plan_time): 0 unless
	// pg_stat_statements.track_planning is on (the private cluster's).
	PlanMillis float64 `json:"plan_ms"`
	// Plans is how often it was planned (plans; 0 unless tracked): a
	// prepared statement whose plan is cached is planned far less often
	// than it runs.
	Plans int64 `json:"plans"`
}

// statementsOf lists what database db ran since resetStatements, most
// frequent first.
func (s *pgServer) statementsOf(ctx context.Context, db string) ([]statement, error) {
	if !s.statements {
		return nil, errors.New(s.statementsNo)
	}
	rows, err := s.admin.QueryContext(ctx, `SELECT query, calls, total_exec_time, total_plan_time, plans FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) ORDER BY calls DESC, query`, db)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	defer rows.Close()
	var out []statement
	for rows.Next() {
		var st statement
		if err := rows.Scan(&st.Query, &st.Calls, &st.Millis, &st.PlanMillis, &st.Plans); err != nil {
			return nil, fmt.Errorf("read pg_stat_statements: %w", err)
		}
		st.Query = strings.Join(strings.Fields(st.Query), " ")
		out = append(out, st)
	}
	return out, rows.Err()
}

// tableWrites are a table's cumulative row writes (pg_stat_user_tables),
// and how often autovacuum analyzed and vacuumed it.
type tableWrites struct {
	Table                             string
	Inserts, Updates, HOTUpdates, Del int64
	AutoAnalyzes, AutoVacuums         int64
}

// tableWritesOf reads database db's row writes per table. An update that
// is not HOT writes a new entry in every index of its table: where a
// call's WAL and much of its CPU go.
func (s *pgServer) tableWritesOf(ctx context.Context, db string) (map[string]tableWrites, error) {
	conn, err := sql.Open("postgres", s.dsn(db))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", db, err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, autoanalyze_count, autovacuum_count
		FROM pg_stat_user_tables`)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_user_tables: %w", err)
	}
	defer rows.Close()
	out := map[string]tableWrites{}
	for rows.Next() {
		var t tableWrites
		if err := rows.Scan(&t.Table, &t.Inserts, &t.Updates, &t.HOTUpdates, &t.Del, &t.AutoAnalyzes, &t.AutoVacuums); err != nil {
			return nil, fmt.Errorf("read pg_stat_user_tables: %w", err)
		}
		out[t.Table] = t
	}
	return out, rows.Err()
}

// tableWritesBetween is, per table written to from reading a to reading b,
// its writes per call (n calls), most written first.
func tableWritesBetween(a, b map[string]tableWrites, n int) []tableRate {
	var out []tableRate
	for name, t := range b {
		p := a[name]
		r := tableRate{Table: name, Inserts: float64(t.Inserts-p.Inserts) / float64(n), Updates: float64(t.Updates-p.Updates) / float64(n),
			HOTUpdates: float64(t.HOTUpdates-p.HOTUpdates) / float64(n), Deletes: float64(t.Del-p.Del) / float64(n),
			AutoAnalyzes: t.AutoAnalyzes - p.AutoAnalyzes, AutoVacuums: t.AutoVacuums - p.AutoVacuums}
		if r.Inserts+r.Updates+r.Deletes > 0 || r.AutoAnalyzes+r.AutoVacuums > 0 {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y tableRate) int {
		return cmp.Or(cmp.Compare(y.Inserts+y.Updates+y.Deletes, x.Inserts+x.Updates+x.Deletes), strings.Compare(x.Table, y.Table))
	})
	return out
}

// tableRate is a table's row writes per call offered.
type tableRate struct {
	Table      string  `json:"table"`
	Inserts    float64 `json:"inserts"`
	Updates    float64 `json:"updates"`
	HOTUpdates float64 `json:"hot_updates"`
	Deletes    float64 `json:"deletes"`
	// AutoAnalyzes and AutoVacuums are how often autovacuum analyzed and
	// vacuumed the table during the run (counts, not per call): an
	// ANALYZE throws away every plan of a statement reading the table, so
	// each connection plans it again (five times before a generic plan).
	AutoAnalyzes int64 `json:"autoanalyzes"`
	AutoVacuums  int64 `json:"autovacuums"`
}

// indexEntry is how many entries a run wrote into one index, per call.
type indexEntry struct {
	Index   string  `json:"index"`
	PerCall float64 `json:"per_call"`
}

// indexEntriesOf counts the B-tree entries the run's database wrote
// between two WAL positions, by index, per call of n (pg_walinspect,
// PostgreSQL 15 and later): each is a leaf page written, and an update that
// is not HOT writes one into every index of its table. It is where a row
// write's cost lies that the table counts do not show. The total is of
// the database's own indexes (not the catalogs'); the list, the costliest.
func (s *pgServer) indexEntriesOf(ctx context.Context, db, from, to string, n int) (float64, []indexEntry, error) {
	if _, err := s.admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_walinspect"); err != nil {
		return 0, nil, fmt.Errorf("index entries: CREATE EXTENSION pg_walinspect: %w", err)
	}
	var dbOID string
	if err := s.admin.QueryRowContext(ctx, `SELECT oid::text FROM pg_database WHERE datname = $1`, db).Scan(&dbOID); err != nil {
		return 0, nil, fmt.Errorf("index entries: %w", err)
	}
	rows, err := s.admin.QueryContext(ctx, `SELECT m[1], m[2], count(*) FROM (
		SELECT regexp_match(block_ref, 'rel \d+/(\d+)/(\d+)') AS m FROM pg_get_wal_records_info($1, $2)
		WHERE resource_manager = 'Btree' AND record_type IN ('INSERT_LEAF', 'INSERT_POST')) r
		GROUP BY 1, 2`, from, to)
	if err != nil {
		return 0, nil, fmt.Errorf("index entries: read the WAL: %w", err)
	}
	byNode := map[string]int64{}
	for rows.Next() {
		var dbo, node sql.NullString
		var count int64
		if err := rows.Scan(&dbo, &node, &count); err != nil {
			rows.Close()
			return 0, nil, fmt.Errorf("index entries: %w", err)
		}
		if dbo.String == dbOID {
			byNode[node.String] += count
		}
	}
	if err := rows.Close(); err != nil {
		return 0, nil, fmt.Errorf("index entries: %w", err)
	}
	names, err := s.relationNames(ctx, db)
	if err != nil {
		return 0, nil, err
	}
	var total int64
	var out []indexEntry
	for node, count := range byNode {
		name, ok := names[node]
		if !ok {
			continue // the catalogs' (a database created, a table)
		}
		total += count
		out = append(out, indexEntry{Index: name, PerCall: float64(count) / float64(n)})
	}
	slices.SortFunc(out, func(a, b indexEntry) int {
		return cmp.Or(cmp.Compare(b.PerCall, a.PerCall), strings.Compare(a.Index, b.Index))
	})
	return float64(total) / float64(n), out[:min(len(out), 16)], nil
}

// relationNames maps the relfilenodes of the run's database's own
// relations (not the catalogs') to their names.
func (s *pgServer) relationNames(ctx context.Context, db string) (map[string]string, error) {
	conn, err := sql.Open("postgres", s.dsn(db))
	if err != nil {
		return nil, fmt.Errorf("index entries: %w", err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT c.relfilenode::text, c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relfilenode <> 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`)
	if err != nil {
		return nil, fmt.Errorf("index entries: names: %w", err)
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var node, name string
		if err := rows.Scan(&node, &name); err != nil {
			return nil, fmt.Errorf("index entries: names: %w", err)
		}
		names[node] = name
	}
	return names, rows.Err()
}
