package store_test

import (
	"context"
	"errors"
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
