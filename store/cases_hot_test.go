package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A receipt's text-back status is written beside its case's row, with no
// new entry in any of the case's indexes (a HOT update): the mark leaves
// every indexed column, updated_at included, as it was. (Touching the
// case, which moves updated_at, writes an entry in each index.) On SQLite
// the mark only writes the status.
func TestTextbackMarkWritesNoIndexEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var cases []store.Case
		for i := range 3 {
			cases = append(cases, callerCase(t, s, fmt.Sprintf("+4477009%05d", i)))
		}
		delivered := "delivered"
		for _, c := range cases {
			if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.MarkTextbackLater(ctx, c.ID, &delivered) }); err != nil {
				t.Fatal(err)
			}
			got, err := s.CaseByID(ctx, c.ID)
			if err != nil || got.TextbackStatus != "delivered" || !got.UpdatedAt.Equal(c.UpdatedAt) {
				t.Fatalf("case %d after the mark: text-back %q, changed at %v (%v); want delivered, changed at %v",
					c.ID, got.TextbackStatus, got.UpdatedAt, err, c.UpdatedAt)
			}
		}
		if s.Dialect() != "postgres" {
			return
		}
		// PostgreSQL reports a backend's table counts once it is idle,
		// within about a second.
		var upd, hot int64
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if err := s.DB().QueryRowx(`SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'cases'::regclass`).Scan(&upd, &hot); err != nil {
				t.Fatal(err)
			}
			if upd >= int64(len(cases)) {
				break
			}
		}
		if upd != int64(len(cases)) || hot != upd {
			t.Errorf("%d updates of cases, %d of them HOT; want %d, all HOT", upd, hot, len(cases))
		}
	})
}
