package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

func TestMigrateFromEmpty(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, b string) {
		ctx := context.Background()
		s, err := store.Open(ctx, storetest.URL(t, b))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		cur, latest, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != 0 || latest < 1 {
			t.Fatalf("empty database: version %d of %d, want 0 of >=1", cur, latest)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// A second run (another replica, a restart) is a no-op.
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		cur, latest, err = s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != latest {
			t.Fatalf("after migrate: version %d, want %d", cur, latest)
		}
		for _, table := range []string{"calls", "cases", "messages", "events", "contacts", "opt_outs", "templates", "outbox", "leases"} {
			var n int
			if err := s.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}
	})
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, latest, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Pretend a newer Ringback migrated this database.
		if _, err := s.DB().Exec(s.DB().Rebind(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`), latest+1, true); err != nil {
			t.Fatal(err)
		}
		err = s.Migrate(ctx)
		if !errors.Is(err, store.ErrSchemaNewer) {
			t.Fatalf("migrate on a newer schema: %v, want ErrSchemaNewer", err)
		}
	})
}

// A SQLite path is a file path, whatever its characters: "#" and "%" are
// not read as a URI's fragment or escape (a path cut at "#" put every run of
// a test named "…#01" on one file, kept between runs).
func TestSQLitePathWithURICharacters(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "a#b%20c")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ringback.db")
	s, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at the path given: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "a")); err == nil {
		t.Fatal("a file was made at the path cut at #")
	}
}

// Migration 00039 marks the text-backs still waiting in Ringback's outbox
// "pending" (their cases said "queued", as those Twilio had taken did, and
// the card now calls the latter sent); taken ones and other words stay.
func TestMigrationMarksWaitingTextBacksPending(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, b string) {
		ctx := context.Background()
		s := storetest.Open(t, storetest.URL(t, b))
		if err := s.MigrateUpTo(ctx, 38); err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		sid := "SM" + strings.Repeat("a", 32)
		kinds := []struct {
			caller, status, textStatus string
			accepted                   bool
			want                       string
		}{
			{"+447700900001", "queued", "pending", false, "pending"},
			{"+447700900002", "queued", "queued", true, "queued"},
			{"+447700900003", "not sent: number withheld", "", false, "not sent: number withheld"},
		}
		ids := make([]int64, len(kinds))
		for i, k := range kinds {
			c := store.Case{LineNumber: "+441632960001", CallerNumber: k.caller, State: store.CaseOpen, Origin: "call",
				TextbackStatus: k.status, CreatedAt: t0, UpdatedAt: t0}
			if _, err := s.InsertCase(ctx, &c); err != nil {
				t.Fatal(err)
			}
			ids[i] = c.ID
			if k.textStatus == "" {
				continue
			}
			m := store.Message{CaseID: &c.ID, Direction: store.Outbound, Kind: "textback", LineNumber: c.LineNumber, CallerNumber: k.caller,
				Body: "Sorry we missed you", Status: k.textStatus, CreatedAt: t0, UpdatedAt: t0}
			if k.accepted {
				m.SID, m.AcceptedAt = &sid, &t0
			}
			if _, err := s.InsertMessage(ctx, &m); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for i, k := range kinds {
			c, err := s.CaseByID(ctx, ids[i])
			if err != nil || c.TextbackStatus != k.want {
				t.Errorf("case of %s (text-back %q, accepted %v): status %q after the migration (%v), want %q",
					k.caller, k.textStatus, k.accepted, c.TextbackStatus, err, k.want)
			}
		}
	})
}
