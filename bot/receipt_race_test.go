package bot_test

import (
	"context"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store/storetest"
)

// A bounce that arrives while the worker is recording its text's SID (after
// it looked for early receipts, before it committed) is not lost: it waits
// for the SID and lands on the text. PostgreSQL only: SQLite runs one write
// transaction at a time, so there the two cannot interleave.
func TestBounceDuringTheSIDCommitIsNotLost(t *testing.T) {
	s := storetest.New(t, "postgres")
	f := newFixture(t, s)
	ctx := context.Background()
	c := f.missed(t, "CA1", callerNum)

	// Another transaction holds the case, so the worker's commit of the sent
	// text stops at the case, past its look for early receipts.
	hold, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT id FROM cases WHERE id = $1 FOR UPDATE`, c.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	worked := make(chan struct{})
	go func() { defer close(worked); f.worker.RunDue(ctx) }()
	texts := f.twilio.WaitMessages(1, 10*time.Second)
	if len(texts) != 1 {
		t.Fatalf("%d texts sent, want the text-back", len(texts))
	}
	waiting := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var k int
			if err := s.DB().GetContext(ctx, &k, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
				AND query LIKE '%UPDATE cases SET textback_status%'`); err != nil {
				t.Fatal(err)
			}
			if k >= n || time.Now().After(deadline) {
				return
			}
		}
	}
	// The worker, at the case (its statement: other tests share the
	// database and may wait on locks of their own).
	waiting(1)

	bounced := make(chan error, 1)
	go func() {
		_, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: texts[0].SID, State: bot.SMSUndelivered, Problem: bot.SMSProblem("unreachable"), Code: "30003"})
		bounced <- err
	}()
	select {
	case err := <-bounced: // the old code kept it as early and went on
		bounced <- err
	case <-time.After(time.Second):
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	<-worked
	if err := <-bounced; err != nil {
		t.Fatal(err)
	}
	ms, err := s.MessagesForCase(ctx, c.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages %+v, %v", ms, err)
	}
	if ms[0].Status != string(bot.SMSUndelivered) {
		t.Errorf("the text-back is %q after its bounce, want undelivered", ms[0].Status)
	}
	var kept int
	if err := s.DB().GetContext(ctx, &kept, `SELECT COUNT(*) FROM early_receipts`); err != nil || kept != 0 {
		t.Errorf("%d receipts left waiting for a SID already recorded (%v)", kept, err)
	}
}
