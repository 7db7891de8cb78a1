package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the SQLite store's driver, to seed its file
)

// seed is the history a run's store starts with (-seed-cases, -seed-calls,
// -seed-outbox): closed cases from other callers than the run's, their
// calls over the past year, and finished outbox rows over the past six
// days (older ones would be pruned as the run begins).
type seed struct {
	cases, calls, outbox int
}

func (s seed) empty() bool { return s.cases == 0 && s.calls == 0 && s.outbox == 0 }

// seedCaller is the i-th seeded case's caller: +447911000000 onwards,
// never a number the run calls from.
const seedCallerPrefix = "+447911"

// migrate runs `ringback migrate` with env in dir: the schema the server
// would create, so that the seed follows whatever the migrations say.
func migrate(ctx context.Context, bin, dir string, env []string) error {
	cmd := exec.CommandContext(ctx, bin, "migrate")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ringback migrate: %w\n%s", err, out)
	}
	return nil
}

// outboxSeedSpan is how far back the seeded outbox rows go: six days,
// inside the default retention (168h).
const outboxSeedSpan = 6 * 24 * time.Hour

// seedStatements are the INSERTs of s for the dialect ("postgres" or
// "sqlite"). Rows go straight in with SQL (generate_series, a recursive
// CTE): a million calls through the store's API would take minutes.
func (s seed) statements(dialect string) []string {
	n, m, k := strconv.Itoa(s.cases), strconv.Itoa(s.calls), strconv.Itoa(s.outbox)
	// series(g) for g in [0, count); ts(g, count, spacing) a time in the
	// past year, later for larger g.
	series := func(count string) string {
		if dialect == "postgres" {
			return "generate_series(0, " + count + " - 1) AS s(g)"
		}
		return "(WITH RECURSIVE r(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM r WHERE g + 1 < " + count + ") SELECT g FROM r) AS s"
	}
	ts := func(count, spacing, plus string) string {
		if dialect == "postgres" {
			return "(now() - make_interval(secs => (" + count + " - g) * " + spacing + " - " + plus + "))"
		}
		return "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-' || ((" + count + " - g) * " + spacing + " - " + plus + ") || ' seconds')"
	}
	caller := "'" + seedCallerPrefix + "' || substr('000000' || g, -6, 6)"
	if dialect == "postgres" {
		caller = "'" + seedCallerPrefix + "' || lpad(g::text, 6, '0')"
	}
	var out []string
	if s.cases > 0 {
		// Each case spans its calls: call j of m belongs to case j % n.
		perCase := strconv.Itoa(max(1, s.calls/max(1, s.cases)))
		out = append(out, `INSERT INTO cases (line_number, caller_number, state, origin, call_count, last_call_at,
			textback_status, closed_at, closed_by, created_at, updated_at)
			SELECT '+441632960001', `+caller+`, 'closed', 'call', `+perCase+`, `+ts(n, "150", "0")+`,
			'sent', `+ts(n, "150", "100")+`, 'U0SEED', `+ts(n, "150", "0")+`, `+ts(n, "150", "100")+`
			FROM `+series(n))
	}
	if s.calls > 0 {
		caseOf, callerOf := "NULL", "'+447911999999'"
		if s.cases > 0 {
			caseOf = "(SELECT MIN(id) FROM cases WHERE caller_number LIKE '" + seedCallerPrefix + "%') + (g % " + n + ")"
			callerOf = "'" + seedCallerPrefix + "' || substr('000000' || (g % " + n + "), -6, 6)"
			if dialect == "postgres" {
				callerOf = "'" + seedCallerPrefix + "' || lpad((g % " + n + ")::text, 6, '0')"
			}
		}
		out = append(out, `INSERT INTO calls (sid, provider, line_number, routed, caller_number, status, missed,
			after_hours, started_at, case_id, created_at, updated_at)
			SELECT 'CASEED' || g, 'twilio', '+441632960001', TRUE, `+callerOf+`, 'no-answer', TRUE, FALSE,
			`+ts(m, "30", "0")+`, `+caseOf+`, `+ts(m, "30", "0")+`, `+ts(m, "30", "0")+`
			FROM `+series(m))
	}
	if s.outbox > 0 {
		// Within the outbox's retention (a week), so that the server keeps
		// them: rows older than it are pruned as the run begins.
		spacing := strconv.FormatFloat(outboxSeedSpan.Seconds()/float64(s.outbox), 'f', 3, 64)
		out = append(out, `INSERT INTO outbox (kind, dedupe_key, payload, state, attempts, max_attempts, run_at, created_at, updated_at)
			SELECT 'textback', 'seed:' || g, '{}', 'done', 1, 8, `+ts(k, spacing, "0")+`, `+ts(k, spacing, "0")+`, `+ts(k, spacing, "0")+`
			FROM `+series(k))
	}
	if dialect == "postgres" {
		// Vacuumed, not only analyzed: a template left with a million
		// rows inserted since its last vacuum is vacuumed by autovacuum
		// within its naptime (a minute), during the first run, whose
		// commits then wait behind that vacuum's writes.
		out = append(out, "VACUUM (ANALYZE) cases, calls, outbox", "ANALYZE")
	}
	return out
}

// seedPostgres creates a database, migrates it and seeds it: the template
// every run's database is copied from.
func seedPostgres(ctx context.Context, pg *pgServer, s seed, bin, dir string, env []string) (string, error) {
	name, err := pg.createDatabase(ctx, "")
	if err != nil {
		return "", err
	}
	if err := migrate(ctx, bin, dir, append(env, "DATABASE_URL="+pg.dsn(name))); err != nil {
		return name, err
	}
	db, err := sql.Open("postgres", pg.dsn(name))
	if err != nil {
		return name, fmt.Errorf("seed: %w", err)
	}
	defer db.Close()
	if err := runSeed(ctx, db, s.statements("postgres")); err != nil {
		return name, err
	}
	// The seed's and the vacuum's pages written now, not by the
	// checkpointer during the first run.
	if _, err := pg.admin.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return name, fmt.Errorf("seed: checkpoint after seeding %s on %s: %w", name, pg.where(), err)
	}
	return name, nil
}

// seedSQLite migrates and seeds ringback.db in dir, which each run copies.
func seedSQLite(ctx context.Context, s seed, bin, dir string, env []string) error {
	if err := migrate(ctx, bin, dir, env); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ringback.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// No ANALYZE: Ringback never analyzes its SQLite store, so a grown
	// store has no statistics, and its plans must hold without them.
	stmts := append(s.statements("sqlite"), "PRAGMA wal_checkpoint(TRUNCATE)")
	return runSeed(ctx, db, stmts)
}

func runSeed(ctx context.Context, db *sql.DB, stmts []string) error {
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed: %w\n%s", err, q)
		}
	}
	return nil
}

// copySQLite copies the seeded store into a run's directory.
func copySQLite(from, to string) error {
	src, err := os.Open(filepath.Join(from, "ringback.db"))
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(to, "ringback.db"))
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("seed: %w", err)
	}
	return dst.Close()
}
