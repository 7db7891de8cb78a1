package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver, to create and drop the per-run databases

	"ringback/cmd/internal/harness"
)

// serverEnv is what a child gets (databaseURL "" selects SQLite in its
// working directory).
func serverEnv(databaseURL, addr, publicURL, configPath, accountSID, authToken, twilioURL string) []string {
	settings := []string{
		"RINGBACK_ADDR=" + addr,
		"PUBLIC_URL=" + publicURL,
		"RINGBACK_CONFIG=" + configPath,
		"TWILIO_ACCOUNT_SID=" + accountSID,
		"TWILIO_AUTH_TOKEN=" + authToken,
		"TWILIO_API_URL=" + twilioURL,
		"RINGBACK_LOG_LEVEL=warn",
	}
	if databaseURL != "" {
		settings = append(settings, "DATABASE_URL="+databaseURL)
	}
	return harness.ServerEnv(settings...)
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
		if t, ok := harness.ProcessCPU(pid); ok {
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
