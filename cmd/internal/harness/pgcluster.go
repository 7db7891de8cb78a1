package harness

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver: the cluster's databases
)

// Cluster is a private PostgreSQL cluster in a temporary folder, listening
// on a free port of 127.0.0.1 only.
type Cluster struct {
	URL string // DATABASE_URL of its "ringback" database

	bin      string // folder of initdb and pg_ctl
	dir      string // owns data/, the log and the socket
	data     string
	port     int
	asUser   string   // run the tools as this OS user ("" = as ourselves)
	settings []string // extra "name=value" server settings
}

// PostgresBin finds initdb: on PATH, or the newest /usr/lib/postgresql/*/bin.
func PostgresBin() (string, error) {
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
	return "", errors.New("harness: initdb not found on PATH nor in /usr/lib/postgresql/*/bin; install PostgreSQL's server package")
}

// NewCluster runs initdb in a temporary folder of its own, starts the server
// with settings ("name=value", e.g. shared_preload_libraries=pg_stat_statements)
// and creates the database "ringback". PostgreSQL refuses to run as root, so
// as root the folder goes to the postgres user and the tools run as it. On
// error the returned cluster, when not nil, must still be removed.
func NewCluster(ctx context.Context, settings ...string) (*Cluster, error) {
	bin, err := PostgresBin()
	if err != nil {
		return nil, err
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	// Directly in the temporary directory, so that the postgres user
	// reaches it whatever the caller's folders allow.
	dir, err := os.MkdirTemp("", "ringback-pg-")
	if err != nil {
		return nil, fmt.Errorf("harness: cluster folder: %w", err)
	}
	c := &Cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), port: port, settings: settings}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return c, fmt.Errorf("harness: running as root needs the postgres OS user for initdb: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return c, fmt.Errorf("harness: give the cluster folder to postgres: %w", err)
		}
		c.asUser = "postgres"
	}
	if err := c.tool(ctx, "initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return c, err
	}
	if err := c.start(ctx); err != nil {
		return c, err
	}
	if err := c.Exec(ctx, "postgres", "CREATE DATABASE ringback"); err != nil {
		return c, err
	}
	c.URL = c.DSN("ringback")
	return c, nil
}

// DSN is the URL of database db on the cluster, over TCP on 127.0.0.1.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", c.port, db)
}

// SocketDSN is the URL of database db on the cluster through its Unix
// socket, as a server on the same host connects: no TCP on either side.
func (c *Cluster) SocketDSN(db string) string {
	q := url.Values{"host": {c.dir}, "port": {strconv.Itoa(c.port)}, "sslmode": {"disable"}, "connect_timeout": {"5"}}
	return "postgres://postgres@/" + db + "?" + q.Encode()
}

// Bin is the folder of the cluster's PostgreSQL programs (pgbench among them
// when installed).
func (c *Cluster) Bin() string { return c.bin }

// Exec runs statements on database db of the cluster.
func (c *Cluster) Exec(ctx context.Context, db, statements string) error {
	conn, err := sql.Open("postgres", c.DSN(db))
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, statements); err != nil {
		return fmt.Errorf("harness: on %s: %w", db, err)
	}
	return nil
}

// tool runs one of PostgreSQL's programs, as c.asUser when set.
func (c *Cluster) tool(ctx context.Context, name string, args ...string) error {
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
		return fmt.Errorf("harness: %s: %w\n%s", name, err, out.Bytes())
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=200", c.port, c.dir)
	for _, s := range c.settings {
		opts += " -c " + s
	}
	return c.tool(ctx, "pg_ctl", "-D", c.data, "-l", c.logFile(), "-o", opts, "-w", "-t", "60", "start")
}

func (c *Cluster) logFile() string { return filepath.Join(c.dir, "postgres.log") }

// Restart is an operator's `pg_ctl restart -m fast`: every connection is
// cut, and the server is back a moment later.
func (c *Cluster) Restart(ctx context.Context) error {
	// -l again: without it the new server would write to our pipe.
	return c.tool(ctx, "pg_ctl", "-D", c.data, "-l", c.logFile(), "-m", "fast", "-w", "-t", "60", "restart")
}

// RestartAfter is Restart with the server kept stopped for down between
// the two: an outage of a known length, whatever the machine's shutdown
// checkpoint takes.
func (c *Cluster) RestartAfter(ctx context.Context, down time.Duration) error {
	if err := c.tool(ctx, "pg_ctl", "-D", c.data, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-time.After(down):
	}
	// Started even when ctx has ended, with a context of its own: a
	// cluster left stopped would fail every step after this one.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	return c.start(sctx)
}

// Remove stops the server at once and deletes the cluster. It runs
// without the caller's context, so that Ctrl-C still cleans up.
func (c *Cluster) Remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	if _, serr := os.Stat(filepath.Join(c.data, "postmaster.pid")); serr == nil {
		err = c.tool(ctx, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "-t", "30", "stop")
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = fmt.Errorf("harness: remove cluster: %w", rerr)
	}
	return err
}

// Dir is the cluster's folder (removed by Remove).
func (c *Cluster) Dir() string { return c.dir }

// CPUTime is the CPU time (user + system) used so far by the cluster's
// postmaster and every process it started (backends, WAL writer,
// checkpointer, autovacuum…), running or ended (the postmaster reaps its
// children, so theirs is in its cutime and cstime); ok is false where /proc
// is not available.
func (c *Cluster) CPUTime() (time.Duration, bool) {
	kinds, ok := c.CPUByKind()
	var total time.Duration
	for _, t := range kinds {
		total += t
	}
	return total, ok
}

// CPUByKind is CPUTime by kind of process: "backends" (connections),
// each auxiliary process by its name ("walwriter", "checkpointer",
// "autovacuum worker", …), and "exited" for the postmaster itself with the
// children it has reaped (autovacuum workers that finished, connections
// closed). ok is false as for CPUTime.
func (c *Cluster) CPUByKind() (map[string]time.Duration, bool) {
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		return nil, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, false
	}
	total, ok := procCPU(pm, true)
	if !ok {
		return nil, false
	}
	out := map[string]time.Duration{"exited": total}
	for _, pid := range childrenOf(pm) {
		if t, ok := ProcessCPU(pid); ok {
			out[processKind(pid)] += t
		}
	}
	return out, true
}

// processKind names a PostgreSQL child by its title ("postgres: walwriter",
// "postgres: user db 127.0.0.1(5000) idle").
func processKind(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "other"
	}
	title := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	title = strings.TrimPrefix(title, "postgres: ")
	for _, aux := range []string{"autovacuum worker", "autovacuum launcher", "walwriter", "checkpointer", "background writer",
		"logical replication launcher", "stats collector", "archiver", "walsender", "walreceiver", "startup"} {
		if strings.HasPrefix(title, aux) {
			return aux
		}
	}
	return "backends"
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		// f[1] is field 4, the parent's pid.
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}
