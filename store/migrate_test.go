package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
