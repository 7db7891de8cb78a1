package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The baseline: the webhook's work reduced to the rows it must write, as
// one transaction — insert the call, upsert the case, insert an event,
// insert two outbox rows (text-back and card) — run at full speed by
// pgbench (or, without pgbench, a Go loop) against the same server.
const baselineSchema = `
CREATE TABLE b_cases (id BIGSERIAL PRIMARY KEY, caller TEXT NOT NULL UNIQUE, state TEXT NOT NULL,
	call_count INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL);
CREATE TABLE b_calls (id BIGSERIAL PRIMARY KEY, sid TEXT NOT NULL UNIQUE, caller TEXT NOT NULL,
	status TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL);
CREATE TABLE b_events (id BIGSERIAL PRIMARY KEY, case_id BIGINT NOT NULL, kind TEXT NOT NULL,
	data TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
CREATE TABLE b_outbox (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, dedupe_key TEXT NOT NULL UNIQUE,
	payload TEXT NOT NULL, case_id BIGINT, state TEXT NOT NULL, run_at TIMESTAMPTZ NOT NULL);
CREATE INDEX b_outbox_due ON b_outbox (run_at) WHERE state = 'pending';`

// The transaction's statements, in pgbench's syntax (:n a random caller,
// :client_id pgbench's, \gset keeps the RETURNING values).
const baselineScript = `\set n random(1, 1000000000)
BEGIN;
INSERT INTO b_calls (sid, caller, status, started_at) VALUES ('CA' || :client_id || '-' || :n || '-' || clock_timestamp(), '+44' || :n, 'no-answer', now()) RETURNING id AS call_id \gset
INSERT INTO b_cases (caller, state, call_count, created_at, updated_at) VALUES ('+44' || :n, 'open', 1, now(), now()) ON CONFLICT (caller) DO UPDATE SET call_count = b_cases.call_count + 1, updated_at = now() RETURNING id AS case_id \gset
INSERT INTO b_events (case_id, kind, data, at) VALUES (:case_id, 'missed_call', '{"call":' || :call_id || '}', now());
INSERT INTO b_outbox (kind, dedupe_key, payload, case_id, state, run_at) VALUES ('textback', 'textback:' || :call_id, '{"case":' || :case_id || '}', :case_id, 'pending', now());
INSERT INTO b_outbox (kind, dedupe_key, payload, case_id, state, run_at) VALUES ('card', 'card:' || :call_id, '{"case":' || :case_id || '}', :case_id, 'pending', now());
COMMIT;
`

// baselineStatements is what one baseline transaction sends, BEGIN and
// COMMIT included, as pg_stat_statements counts them.
const baselineStatements = 7

// baselineResult is a baseline run.
type baselineResult struct {
	Tool         string        // "pgbench" or "go loop (pgbench not found)"
	Clients      int           // connections
	Transactions int64         // committed
	TPS          float64       // per second of the run
	DBCPU        time.Duration // PostgreSQL CPU per transaction; < 0: unknown
	WALSyncs     float64       // WAL flushes per transaction
}

// runBaseline creates a database for the baseline and runs it for d.
func runBaseline(ctx context.Context, pg *pgServer, d time.Duration, clients int, work string) (res baselineResult, err error) {
	res.Clients, res.DBCPU = clients, -1
	db, err := pg.createDatabase(ctx, "")
	if err != nil {
		return res, err
	}
	defer func() {
		if derr := pg.dropDatabase(db); derr != nil && err == nil {
			err = derr
		}
	}()
	conn, err := sql.Open("postgres", pg.dsn(db))
	if err != nil {
		return res, fmt.Errorf("baseline: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, baselineSchema); err != nil {
		return res, fmt.Errorf("baseline: create tables: %w", err)
	}
	c0, cerr0 := pg.counters(ctx, db)
	cpu0, cpuOK0 := pg.cpu(ctx, db)
	pgbench := pgbenchPath(pg)
	if pgbench != "" {
		res.Tool = "pgbench"
		res.Transactions, err = runPgbench(ctx, pgbench, pg.dsn(db), d, clients, work)
	} else {
		res.Tool = "go loop (pgbench not found)"
		res.Transactions, err = runGoBaseline(ctx, conn, d, clients)
	}
	if err != nil {
		return res, err
	}
	res.TPS = float64(res.Transactions) / d.Seconds() // both stop after d
	// pgbench's backends have ended: once the postmaster has reaped them
	// their time is in its own (and their counters are reported).
	time.Sleep(statsFlush)
	cpu1, cpuOK1 := pg.cpu(ctx, db)
	// On another server only the backends connected now are seen, and
	// pgbench's came and went in between: no figure rather than a wrong one.
	if pg.cluster != nil && cpuOK0 && cpuOK1 && res.Transactions > 0 {
		res.DBCPU = cpuBetween(cpu0, cpu1) / time.Duration(res.Transactions)
	}
	c1, cerr1 := pg.counters(ctx, db)
	if cerr0 == nil && cerr1 == nil && res.Transactions > 0 {
		res.WALSyncs = float64(c1.walSync-c0.walSync) / float64(res.Transactions)
	}
	return res, nil
}

// pgbenchPath finds pgbench beside the cluster's programs or on PATH.
func pgbenchPath(pg *pgServer) string {
	if pg.cluster != nil {
		p := filepath.Join(pg.cluster.Bin(), "pgbench")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("pgbench")
	return p
}

var pgbenchProcessed = regexp.MustCompile(`number of transactions actually processed: (\d+)`)

func runPgbench(ctx context.Context, pgbench, dsn string, d time.Duration, clients int, work string) (int64, error) {
	script := filepath.Join(work, "baseline.sql")
	if err := os.WriteFile(script, []byte(baselineScript), 0o644); err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, pgbench, "-n", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(secs), "-f", script, dsn)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("baseline: pgbench: %w\n%s", err, out.Bytes())
	}
	m := pgbenchProcessed.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, fmt.Errorf("baseline: pgbench printed no transaction count:\n%s", out.Bytes())
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n, nil
}

// runGoBaseline is the same transaction from clients goroutines, each on a
// connection of its own, for d.
func runGoBaseline(ctx context.Context, conn *sql.DB, d time.Duration, clients int) (int64, error) {
	conn.SetMaxOpenConns(clients)
	conn.SetMaxIdleConns(clients)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			for seq := 0; ctx.Err() == nil; seq++ {
				if err := baselineTx(ctx, conn, rng.IntN(1_000_000_000), fmt.Sprintf("CA%d-%d", c, seq)); err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return n.Load(), fmt.Errorf("baseline: %w", err)
	}
	return n.Load(), nil
}

func baselineTx(ctx context.Context, conn *sql.DB, n int, sid string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	caller := "+44" + strconv.Itoa(n)
	var callID, caseID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO b_calls (sid, caller, status, started_at) VALUES ($1, $2, 'no-answer', now()) RETURNING id`, sid, caller).Scan(&callID); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO b_cases (caller, state, call_count, created_at, updated_at) VALUES ($1, 'open', 1, now(), now())
		ON CONFLICT (caller) DO UPDATE SET call_count = b_cases.call_count + 1, updated_at = now() RETURNING id`, caller).Scan(&caseID); err != nil {
		return err
	}
	payload := fmt.Sprintf(`{"case":%d}`, caseID)
	if _, err := tx.ExecContext(ctx, `INSERT INTO b_events (case_id, kind, data, at) VALUES ($1, 'missed_call', $2, now())`, caseID, fmt.Sprintf(`{"call":%d}`, callID)); err != nil {
		return err
	}
	for _, kind := range []string{"textback", "card"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO b_outbox (kind, dedupe_key, payload, case_id, state, run_at) VALUES ($1, $2, $3, $4, 'pending', now())`,
			kind, kind+":"+strconv.FormatInt(callID, 10), payload, caseID); err != nil {
			return err
		}
	}
	return tx.Commit()
}
