// Package storetest opens real, empty, migrated stores for tests: always an
// SQLite file in the test's temp dir, and a fresh PostgreSQL schema when
// TEST_DATABASE_URL is set. Under CI (CI=true) a missing or unreachable
// PostgreSQL fails the test instead of quietly skipping half the suite.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"ringback/store"
)

// Backends lists the engines this run tests on.
func Backends(t testing.TB) []string {
	b := []string{"sqlite"}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		b = append(b, "postgres")
	} else if os.Getenv("CI") != "" {
		t.Fatal("storetest: CI is set but TEST_DATABASE_URL is not: the PostgreSQL half of the suite would not run")
	}
	return b
}

// Each runs fn as a subtest on every backend, each with its own empty store.
// The two subtests run in parallel, so fn must not use t.Setenv nor
// package state that the other backend's run changes; the stores
// themselves share nothing.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, b))
		})
	}
}

// EachBackend runs fn as a subtest (or sub-benchmark) on every backend in
// turn, for tests that build their store, or more, themselves.
func EachBackend[T interface {
	testing.TB
	Run(name string, f func(T)) bool
}](t T, fn func(t T, backend string)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b, func(t T) { fn(t, b) })
	}
}

// EachURL runs fn as a subtest (or sub-benchmark) on every backend in turn,
// with the DATABASE_URL of an empty database of its own, for tests of what
// opens (and migrates) the store itself.
func EachURL[T interface {
	testing.TB
	Run(name string, f func(T)) bool
}](t T, fn func(t T, url string)) {
	t.Helper()
	EachBackend(t, func(t T, backend string) { fn(t, URL(t, backend)) })
}

// New opens a migrated, empty store on backend, closed when the test ends.
func New(t testing.TB, backend string) *store.Store {
	t.Helper()
	return Migrated(t, URL(t, backend))
}

// Open opens the store at url as it is, closed when the test ends: for
// looking at what a command wrote, or did not.
func Open(t testing.TB, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Migrated opens the store at url with its schema brought up to date,
// closed when the test ends.
func Migrated(t testing.TB, url string) *store.Store {
	t.Helper()
	s := Open(t, url)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("storetest: migrate: %v", err)
	}
	return s
}

// URL makes an empty database for backend and returns its DATABASE_URL;
// it is dropped when the test ends.
func URL(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "ringback.db")
	case "postgres":
		return pgSchema(t)
	}
	t.Fatalf("storetest: unknown backend %q", backend)
	return ""
}

// pgSchema creates a schema of its own for one test, so tests run in
// parallel against one database without seeing each other's rows.
func pgSchema(t testing.TB) string {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Fatal("storetest: TEST_DATABASE_URL is not set")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("storetest: TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		t.Fatalf("storetest: PostgreSQL at TEST_DATABASE_URL is unreachable: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// WaitForLockWait returns once a statement on s's PostgreSQL database whose
// text is LIKE like waits for a lock (a row's, or an advisory one), and
// fails the test if none does within 10 s.
func WaitForLockWait(t testing.TB, s *store.Store, like string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := s.DB().Get(&n, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE $1`, like); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no statement like %q waited for a lock", like)
		}
	}
}

// NoteCommitSync has PostgreSQL note, as each transaction that makes event
// (INSERT, UPDATE) on a row of table commits, what synchronous_commit says
// then, with the row's column key, in commit_sync (key, sync); it reports
// whether s is PostgreSQL (SQLite has no such setting: nothing is noted).
func NoteCommitSync(t testing.TB, s *store.Store, event, table, key string) bool {
	t.Helper()
	if s.Dialect() != "postgres" {
		return false
	}
	if _, err := s.DB().Exec(`CREATE TABLE commit_sync (key TEXT, sync TEXT);
		CREATE FUNCTION note_commit_sync() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO commit_sync VALUES (NEW.` + key + `::text, current_setting('synchronous_commit')); RETURN NULL; END $$;
		CREATE CONSTRAINT TRIGGER commit_sync AFTER ` + event + ` ON ` + table + ` DEFERRABLE INITIALLY DEFERRED
		FOR EACH ROW EXECUTE FUNCTION note_commit_sync()`); err != nil {
		t.Fatal(err)
	}
	return true
}

// OpenCase stores an open case of a missed call at at, from one caller on
// one line.
func OpenCase(t testing.TB, s *store.Store, at time.Time) store.Case {
	t.Helper()
	c := store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900123", State: store.CaseOpen, Origin: "call", CreatedAt: at, UpdatedAt: at}
	if _, err := s.InsertCase(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}
