package bot_test

import (
	"testing"

	"ringback/store"
	"ringback/store/storetest"
)

// A delivery receipt reads its text under the SID's lock in one statement
// on PostgreSQL (store.Tx.LockedMessageBySID), not a lock statement and a
// read, and applies as before: the text-back is delivered, on its case.
func TestReceiptReadsItsTextUnderItsLockInOneStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixtureOn(t, s)
		c, sid := sentTextBack(t, f)
		counter := receiptDelivered(t, f, c, sid)
		if s.Dialect() != "postgres" {
			return
		}
		if n := counter.Total("SELECT pg_advisory_xact_lock("); n != 0 {
			t.Errorf("%d statements took the SID's lock on their own, want none:\n%v", n, counter.Sequence())
		}
	})
}
