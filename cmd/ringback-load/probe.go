package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"ringback/cmd/internal/harness"
)

// probeEvery is how often the commit probe commits beside the load.
const probeEvery = 20 * time.Millisecond

// probeDatabase is the database of the PostgreSQL probe's table.
const probeDatabase = "ringback_load_probe"

// A commitProbe measures what a durable commit costs on the run's machine
// while the load runs, so that a run's tail can be told apart from the
// machine's: on this project's virtual machines an fdatasync now and then
// takes 100 ms or more, and every commit waiting for the WAL waits with it,
// whoever made it. On PostgreSQL it commits a one-row INSERT of its own on
// the same server (a database of its own, synchronous commit); on SQLite,
// whose commits do not sync (WAL, synchronous=NORMAL) but whose checkpoints
// do, it writes a page to a file in the run's folder and syncs it.
type commitProbe struct {
	what   string
	commit func(ctx context.Context) error
	close  func()

	mu      sync.Mutex
	samples []time.Duration
	failed  int
	stop    context.CancelFunc
	done    chan struct{}
}

// startProbe starts probing for st's run, whose files are in dir.
func startProbe(ctx context.Context, st runStore, dir string) (*commitProbe, error) {
	var p *commitProbe
	var err error
	if st.pg != nil {
		p, err = pgProbe(ctx, st.pg)
	} else {
		p, err = fileProbe(dir)
	}
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(ctx)
	p.stop, p.done = cancel, make(chan struct{})
	go p.run(pctx)
	return p, nil
}

func (p *commitProbe) run(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		err := p.commit(ctx)
		took := time.Since(start)
		if ctx.Err() != nil {
			return // cut short by the stop: not a sample
		}
		p.mu.Lock()
		if err != nil {
			p.failed++
		} else {
			p.samples = append(p.samples, took)
		}
		p.mu.Unlock()
	}
}

// finish stops the probe and summarises its commits.
func (p *commitProbe) finish() (summary, int) {
	p.stop()
	<-p.done
	p.close()
	p.mu.Lock()
	defer p.mu.Unlock()
	return harness.Summarize(p.samples), p.failed
}

// pgProbe commits into probeDatabase on s, created when missing.
func pgProbe(ctx context.Context, s *pgServer) (*commitProbe, error) {
	var exists bool
	if err := s.admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, probeDatabase).Scan(&exists); err != nil {
		return nil, fmt.Errorf("commit probe: %w", err)
	}
	if !exists {
		if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+probeDatabase); err != nil {
			return nil, fmt.Errorf("commit probe: create its database: %w", err)
		}
	}
	s.probed = true
	db, err := sql.Open("postgres", s.dsn(probeDatabase))
	if err != nil {
		return nil, fmt.Errorf("commit probe: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS probe (at timestamptz NOT NULL); TRUNCATE probe`); err != nil {
		db.Close()
		return nil, fmt.Errorf("commit probe: its table: %w", err)
	}
	return &commitProbe{
		what: "a one-row INSERT committed on the same PostgreSQL server",
		commit: func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, `INSERT INTO probe (at) VALUES (now())`)
			return err
		},
		close: func() { db.Close() },
	}, nil
}

// fileProbe writes and syncs a page of a file in dir.
func fileProbe(dir string) (*commitProbe, error) {
	f, err := os.OpenFile(filepath.Join(dir, "commit-probe"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("commit probe: %w", err)
	}
	page := make([]byte, 4096)
	var n uint64
	return &commitProbe{
		what: "a 4 kB page written and fsync'd in the run's folder",
		commit: func(context.Context) error {
			n++
			page[0] = byte(n)
			if _, err := f.WriteAt(page, int64(n%64)*4096); err != nil {
				return err
			}
			return f.Sync()
		},
		close: func() { f.Close() },
	}, nil
}

// dropProbe removes the probe's database from s.
func (s *pgServer) dropProbe() {
	_ = s.dropDatabase(probeDatabase)
}
