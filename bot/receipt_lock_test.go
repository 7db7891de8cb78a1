package bot_test

import (
	"context"
	"testing"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// A delivery receipt reads its text under the SID's lock in one statement
// on PostgreSQL (store.Tx.LockedMessageBySID), not a lock statement and a
// read, and applies as before: the text-back is delivered, on its case.
func TestReceiptReadsItsTextUnderItsLockInOneStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixtureOn(t, s)
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		sent := f.twilio.Messages()
		if len(sent) != 1 {
			t.Fatalf("%d texts sent, want the text-back", len(sent))
		}
		counter := s.CountStatements()
		known, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: sent[0].SID, State: bot.SMSDelivered})
		s.StopCounting()
		if err != nil || !known {
			t.Fatalf("receipt: known %v, %v", known, err)
		}
		c, err = s.CaseByID(ctx, c.ID)
		if err != nil || c.TextbackStatus != string(bot.SMSDelivered) {
			t.Errorf("the case's text-back status %q (%v), want delivered", c.TextbackStatus, err)
		}
		if s.Dialect() != "postgres" {
			return
		}
		if n := counter.Total("SELECT pg_advisory_xact_lock("); n != 0 {
			t.Errorf("%d statements took the SID's lock on their own, want none:\n%v", n, counter.Sequence())
		}
	})
}
