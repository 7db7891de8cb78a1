package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver: the run's own database

	"ringback/cmd/internal/harness"
)

// cluster is a private PostgreSQL cluster in a temporary folder, listening
// on a free port of 127.0.0.1 only.
type cluster struct {
	bin    string // folder of initdb and pg_ctl
	dir    string // owns data/, the log and the socket
	data   string
	port   int
	asUser string // run the tools as this OS user ("" = as ourselves)
	url    string // DATABASE_URL of the run's database
}

// postgresBin finds initdb: on PATH, or the newest /usr/lib/postgresql/*/bin.
func postgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("chaos: initdb not found on PATH nor in /usr/lib/postgresql/*/bin; install PostgreSQL's server package")
}

// newCluster runs initdb in a temporary folder of its own and starts the
// server. PostgreSQL refuses to run as root, so as root the folder goes to
// the postgres user and the tools run as it.
func newCluster(ctx context.Context) (*cluster, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	addr, err := harness.FreeAddr()
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	// Directly in the temporary directory, so that the postgres user
	// reaches it whatever the caller's folders allow.
	dir, err := os.MkdirTemp("", "ringback-chaos-pg-")
	if err != nil {
		return nil, fmt.Errorf("chaos: cluster folder: %w", err)
	}
	c := &cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), port: port}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return c, fmt.Errorf("chaos: running as root needs the postgres OS user for initdb: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return c, fmt.Errorf("chaos: give the cluster folder to postgres: %w", err)
		}
		c.asUser = "postgres"
	}
	if err := c.tool(ctx, "initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return c, err
	}
	if err := c.start(ctx); err != nil {
		return c, err
	}
	admin, err := sql.Open("postgres", c.dsn("postgres"))
	if err != nil {
		return c, fmt.Errorf("chaos: %w", err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE ringback"); err != nil {
		return c, fmt.Errorf("chaos: create database: %w", err)
	}
	c.url = c.dsn("ringback")
	return c, nil
}

func (c *cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", c.port, db)
}

// tool runs one of PostgreSQL's programs, as c.asUser when set.
func (c *cluster) tool(ctx context.Context, name string, args ...string) error {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl's server outlives it; should it ever hold the output pipe,
	// Wait must not wait for it.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("chaos: %s: %w\n%s", name, err, out.Bytes())
	}
	return nil
}

func (c *cluster) start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=200", c.port, c.dir)
	return c.tool(ctx, "pg_ctl", "-D", c.data, "-l", c.logFile(), "-o", opts, "-w", "-t", "60", "start")
}

func (c *cluster) logFile() string { return filepath.Join(c.dir, "postgres.log") }

// restart is an operator's `pg_ctl restart -m fast`: every connection is
// cut, and the server is back a moment later.
func (c *cluster) restart(ctx context.Context) error {
	// -l again: without it the new server would write to our pipe.
	return c.tool(ctx, "pg_ctl", "-D", c.data, "-l", c.logFile(), "-m", "fast", "-w", "-t", "60", "restart")
}

// remove stops the server at once and deletes the cluster. It runs
// without the run's context, so that Ctrl-C still cleans up.
func (c *cluster) remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	if _, serr := os.Stat(filepath.Join(c.data, "postmaster.pid")); serr == nil {
		err = c.tool(ctx, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "-t", "30", "stop")
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = fmt.Errorf("chaos: remove cluster: %w", rerr)
	}
	return err
}

// database reads what the verdict needs from the run's database.
type database struct{ db *sql.DB }

func openDatabase(url string) (*database, error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	db.SetMaxOpenConns(2)
	return &database{db: db}, nil
}

func (d *database) close() { d.db.Close() }

// query runs q and hands each row's Scan to row; what names the query in
// its error.
func (d *database) query(ctx context.Context, what, q string, row func(scan func(dest ...any) error) error) error {
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("chaos: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
	}
	return rows.Err()
}

// unsettled counts outbox rows by kind that are neither done nor dead.
func (d *database) unsettled(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := d.query(ctx, "count unsettled outbox rows", `SELECT kind, COUNT(*) FROM outbox WHERE state NOT IN ('done', 'dead') GROUP BY kind`, func(scan func(...any) error) error {
		var k string
		var n int
		if err := scan(&k, &n); err != nil {
			return err
		}
		out[k] = n
		return nil
	})
	return out, err
}

// dead lists the outbox rows that gave up.
func (d *database) dead(ctx context.Context) ([]deadRow, error) {
	var out []deadRow
	err := d.query(ctx, "list dead outbox rows", `SELECT kind, payload FROM outbox WHERE state = 'dead' ORDER BY id`, func(scan func(...any) error) error {
		var k, payload string
		if err := scan(&k, &payload); err != nil {
			return err
		}
		var e struct {
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal([]byte(payload), &e)
		out = append(out, deadRow{kind: k, entryKind: e.Kind})
		return nil
	})
	return out, err
}

// cases maps every case to its caller and line.
func (d *database) cases(ctx context.Context) (map[int64]pair, error) {
	out := map[int64]pair{}
	err := d.query(ctx, "list cases", `SELECT id, caller_number, line_number FROM cases`, func(scan func(...any) error) error {
		var id int64
		var p pair
		if err := scan(&id, &p.caller, &p.line); err != nil {
			return err
		}
		out[id] = p
		return nil
	})
	return out, err
}
