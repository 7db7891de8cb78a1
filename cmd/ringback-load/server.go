package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver, to create and drop the per-run databases
)

// moduleRoot is the directory of the ringback module's go.mod, wherever the
// command was started from inside the module.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the ringback module: run from its directory (go run ./cmd/ringback-load)")
	}
	return filepath.Dir(gomod), nil
}

// buildServer builds the module's main package (the ringback binary) into dir.
func buildServer(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "ringback")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ringback: %w\n%s", err, out.Bytes())
	}
	return bin, nil
}

// server is one `ringback serve` child process.
type server struct {
	cmd     *exec.Cmd
	baseURL string // http://127.0.0.1:<port>, also its PUBLIC_URL
	log     *tailBuffer
	exited  chan struct{}
	waitErr error
}

// serverEnv is what a child gets (databaseURL "" selects SQLite in its
// working directory): the ringback settings and a minimal
// inherited environment, so that the operator's own DATABASE_URL, Slack or
// Twilio settings cannot leak into a run.
func serverEnv(databaseURL, addr, publicURL, configPath, accountSID, authToken, twilioURL string) []string {
	env := []string{
		"RINGBACK_ADDR=" + addr,
		"PUBLIC_URL=" + publicURL,
		"RINGBACK_CONFIG=" + configPath,
		"TWILIO_ACCOUNT_SID=" + accountSID,
		"TWILIO_AUTH_TOKEN=" + authToken,
		"TWILIO_API_URL=" + twilioURL,
		"RINGBACK_LOG_LEVEL=warn",
	}
	if databaseURL != "" {
		env = append(env, "DATABASE_URL="+databaseURL)
	}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// startServer runs bin serve with env in dir and waits until /healthz
// answers 200.
func startServer(ctx context.Context, bin, dir string, env []string, baseURL string, logTo io.Writer) (*server, error) {
	s := &server{baseURL: baseURL, log: &tailBuffer{max: 64 << 10}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Dir = dir
	s.cmd.Env = env
	var out io.Writer = s.log
	if logTo != nil {
		out = io.MultiWriter(s.log, logTo)
	}
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ringback serve: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitHealthy(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\nserver log:\n%s", err, s.log.String())
	}
	return s, nil
}

func (s *server) waitHealthy(ctx context.Context, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("ringback serve exited before it was healthy: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for /healthz: %w", ctx.Err())
		default:
		}
		res, err := hc.Get(s.baseURL + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("ringback serve: /healthz not 200 within %s", timeout)
}

// stop asks the server to drain (SIGTERM) and kills it if it has not
// stopped within 30 s. It reports how the process ended.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("ringback serve did not stop within 30s of SIGTERM; killed")
	}
}

// cpuTime is the CPU time (user + system) the server has used so far; ok is
// false where /proc is not available.
func (s *server) cpuTime() (time.Duration, bool) { return processCPU(s.cmd.Process.Pid) }

// processCPU is the CPU time (user + system) process pid has used so far,
// read from /proc; ok is false where that is not available.
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields after ")" are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticksPerSecond = 100 // USER_HZ on every Linux port Go supports
	return time.Duration(ut+st) * time.Second / ticksPerSecond, true
}

// freeAddr is a free TCP address on 127.0.0.1.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// pgDatabase is a PostgreSQL database created for one run.
type pgDatabase struct {
	admin *sql.DB // connected to the server's "postgres" database
	name  string
	url   string // DATABASE_URL of the new database
	local bool   // the server runs on this machine: its backends are in /proc
}

// backendCPU is the CPU time used so far by each backend connected to the
// database (the server's pool and its LISTEN connection); nil when the
// PostgreSQL server is not on this machine.
func (d *pgDatabase) backendCPU(ctx context.Context) map[int]time.Duration {
	if !d.local {
		return nil
	}
	rows, err := d.admin.QueryContext(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", d.name)
	if err != nil {
		return nil
	}
	defer rows.Close()
	cpu := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return nil
		}
		if t, ok := processCPU(pid); ok {
			cpu[pid] = t
		}
	}
	if rows.Err() != nil || len(cpu) == 0 {
		return nil
	}
	return cpu
}

// cpuBetween is the CPU time the backends used from a to b (backends that
// connected in between count from zero).
func cpuBetween(a, b map[int]time.Duration) (time.Duration, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	var d time.Duration
	for pid, t := range b {
		d += t - a[pid]
	}
	return d, true
}

// createDatabase creates ringback_load_<random> on the server of serverURL,
// connecting through its "postgres" maintenance database.
func createDatabase(ctx context.Context, serverURL string) (*pgDatabase, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("-database-url: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("-database-url: scheme %q is not postgres", u.Scheme)
	}
	adminURL := *u
	adminURL.Path = "/postgres"
	admin, err := sql.Open("postgres", adminURL.String())
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	admin.SetMaxOpenConns(1)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "ringback_load_" + hex.EncodeToString(b[:])
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// name is ours: lower-case letters, digits and underscores only.
	if _, err := admin.ExecContext(cctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create database %s on %s: %w", name, u.Host, err)
	}
	dbURL := *u
	dbURL.Path = "/" + name
	h := u.Hostname()
	local := h == "" || h == "localhost" || strings.HasPrefix(h, "/") || net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback()
	return &pgDatabase{admin: admin, name: name, url: dbURL.String(), local: local}, nil
}

// drop removes the database, disconnecting whoever is still connected.
func (d *pgDatabase) drop() error {
	defer d.admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	return nil
}
