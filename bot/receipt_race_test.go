package bot_test

import (
	"context"
	"testing"
	"time"

	"ringback/bot"
	"ringback/sms/twiliostandin"
	"ringback/store"
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

// A bounce kept while the worker's statement recording the text's SID
// waits for the SID's lock (the receipt handler holding it, having found
// no text with that SID) is not lost: that statement read early receipts
// before the lock, so the commit looks again, finds it, and the worker
// records the SID again, the lock first, applying the bounce. PostgreSQL
// only, as above.
func TestBounceKeptWhileTheSIDWaitsForItsLockIsNotLost(t *testing.T) {
	s := storetest.New(t, "postgres")
	f := newFixture(t, s)
	ctx := context.Background()
	held, release, kept := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	f.twilio.OnMessage(func(m twiliostandin.SentMessage) {
		// Before the API answers: the receipt handler takes the SID's lock
		// and keeps the bounce, and commits once the worker waits.
		go func() {
			kept <- s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.LockMessageSID(ctx, m.SID); err != nil {
					return err
				}
				if err := tx.KeepReceipt(ctx, store.Receipt{SID: m.SID, Status: string(bot.SMSUndelivered), Problem: "unreachable", ErrorCode: "30003", ReceivedAt: time.Now()}); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
	})
	c := f.missed(t, "CA1", callerNum)
	f.clock.Advance(time.Minute)
	worked := make(chan struct{})
	go func() { defer close(worked); f.worker.RunDue(ctx) }()
	storetest.WaitForLockWait(t, s, "%UPDATE messages SET sid%")
	close(release)
	if err := <-kept; err != nil {
		t.Fatal(err)
	}
	<-worked
	ms, err := s.MessagesForCase(ctx, c.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages %+v, %v", ms, err)
	}
	if ms[0].Status != string(bot.SMSUndelivered) || ms[0].SID == nil {
		t.Errorf("the text-back is %q (sid %v) after its bounce, want undelivered", ms[0].Status, ms[0].SID)
	}
	var left int
	if err := s.DB().GetContext(ctx, &left, `SELECT COUNT(*) FROM early_receipts`); err != nil || left != 0 {
		t.Errorf("%d receipts left waiting for a SID already recorded (%v)", left, err)
	}
	if n := len(f.twilio.Messages()); n != 1 {
		t.Errorf("%d texts sent, want 1", n)
	}
}
