package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// sentTextBack opens a case and sends its text-back, and returns the case
// and the text's SID.
func sentTextBack(t *testing.T, f *fixture) (store.Case, string) {
	t.Helper()
	c := f.missed(t, "CA1", callerNum)
	if _, err := f.worker.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent := f.twilio.Messages()
	if len(sent) != 1 {
		t.Fatalf("%d texts sent, want the text-back", len(sent))
	}
	return c, sent[0].SID
}

// receiptDelivered has Twilio report the text sid delivered, and checks
// that case c shows it; it returns the statements the receipt sent.
func receiptDelivered(t *testing.T, f *fixture, c store.Case, sid string) *store.Statements {
	t.Helper()
	ctx := context.Background()
	counter := f.store.CountStatements()
	known, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: sid, State: bot.SMSDelivered})
	f.store.StopCounting()
	if err != nil || !known {
		t.Fatalf("receipt: known %v, %v", known, err)
	}
	c, err = f.store.CaseByID(ctx, c.ID)
	if err != nil || c.TextbackStatus != string(bot.SMSDelivered) {
		t.Errorf("the case's text-back status %q (%v), want delivered", c.TextbackStatus, err)
	}
	return counter
}

// A receipt that moves a text one step on (here: the text-back delivered)
// writes everything it changes — the text, the case's text-back status, a
// card refresh — in the statement that commits it, on the text as the
// replica that sent it kept it: on PostgreSQL one statement, no
// transaction held open (it was BEGIN, the locked read, the text's update,
// the case's lock and rewrite, the outbox row, COMMIT; then a read and that
// write). A replica that did not send it reads it first.
func TestReceiptIsOneReadAndOneWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		c, sid := sentTextBack(t, f)
		cards := len(outbox(t, s, "chat.card.slack"))

		counter := receiptDelivered(t, f, c, sid)
		m, err := s.ReadMessageBySID(ctx, sid)
		if err != nil || m.Status != string(bot.SMSDelivered) {
			t.Errorf("the text's status %q (%v), want delivered", m.Status, err)
		}
		if n := len(outbox(t, s, "chat.card.slack")); n != cards+1 {
			t.Errorf("%d card rows after the receipt, want %d: the card shows the delivery", n, cards+1)
		}
		if s.Dialect() == "postgres" && (counter.Total() != 1 || counter.Total("BEGIN") != 0) {
			t.Errorf("the receipt sent %d statements, want 1: a write that commits alone:\n%s",
				counter.Total(), strings.Join(counter.Sequence(), "\n"))
		}

		// The same receipt again (Twilio retries) changes nothing, in one read.
		counter = s.CountStatements()
		if known, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: sid, State: bot.SMSDelivered}); err != nil || !known {
			t.Fatalf("repeated receipt: known %v, %v", known, err)
		}
		s.StopCounting()
		if n := counter.Total(); n != 1 {
			t.Errorf("a repeated receipt sent %d statements, want 1 (the read):\n%s", n, strings.Join(counter.Sequence(), "\n"))
		}
		if n := len(outbox(t, s, "chat.card.slack")); n != cards+1 {
			t.Errorf("%d card rows after the repeated receipt, want %d", n, cards+1)
		}
	})
}

// A receipt that moves a text on commits without waiting for the disk on
// PostgreSQL (lost with the database, it is made good by asking Twilio:
// AskReceipts); a failure, which changes what Ringback does next, waits.
func TestOnlyAFailedTextsReceiptWaitsForTheDisk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if s.Dialect() != "postgres" {
			return // SQLite commits to its file either way
		}
		ctx := context.Background()
		f := newFixture(t, s)
		storetest.NoteCommitSync(t, s, "UPDATE", "messages", "status")
		c, sid := sentTextBack(t, f)
		receiptDelivered(t, f, c, sid)
		other := f.missed(t, "CA2", "+447700900222")
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		var failed string
		for _, m := range f.twilio.Messages() {
			if m.To == other.CallerNumber {
				failed = m.SID
			}
		}
		if _, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: failed, State: bot.SMSUndelivered, Problem: bot.SMSProblemUnreachable, Code: "30003"}); err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := s.DB().Select(&got, `SELECT key || ': ' || sync FROM commit_sync WHERE key IN ('delivered', 'undelivered')`); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if want := []string{"delivered: off", "undelivered: on"}; !slices.Equal(got, want) {
			t.Errorf("receipts committed %q, want %q", got, want)
		}
	})
}

// A text changed between a receipt's read and its write — here a failure
// recorded by another transaction while the receipt's write waited for the
// text's row — is not overwritten by what the receipt decided on the old
// read: the write changes nothing, and the receipt is decided again on the
// text as it now is (a delivery after a failure does not undo it).
func TestReceiptOnATextChangedSinceItsReadIsDecidedAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if s.Dialect() != "postgres" {
			return // SQLite's one writer: no write waits on another's row
		}
		receiptOnAChangedText(t, s)
	})
}

func receiptOnAChangedText(t *testing.T, s *store.Store) {
	ctx := context.Background()
	f := newFixture(t, s)
	c, sid := sentTextBack(t, f)

	holder, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec(`UPDATE messages SET status = 'undelivered', error_code = '30003', problem = 'unreachable' WHERE sid = $1`, sid); err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() {
		_, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: sid, State: bot.SMSDelivered})
		ran <- err
	}()
	storetest.WaitForLockWait(t, s, "%")
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err != nil {
		t.Fatalf("receipt: %v", err)
	}
	m, err := s.ReadMessageBySID(ctx, sid)
	if err != nil || m.Status != "undelivered" || m.ErrorCode != "30003" {
		t.Errorf("the text is %q (error %q, %v) after the receipt, want undelivered (30003) as the failure left it", m.Status, m.ErrorCode, err)
	}
	c, err = s.CaseByID(ctx, c.ID)
	if err != nil || c.TextbackStatus == string(bot.SMSDelivered) {
		t.Errorf("the case's text-back status %q (%v): the receipt's write on the old read was made", c.TextbackStatus, err)
	}
}

// A staff reply's receipts apply to the reply as the replica that sent it
// kept it, as a text-back's do: "sent" and then "delivered" are one
// statement each on PostgreSQL (each was a read and a write), and the
// reply ends delivered, its thread entry edited to show it.
func TestStaffReplysReceiptsNeedNoRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		c, _ := sentTextBack(t, f)
		if _, err := f.bot.SendReply(ctx, c.ID, alice, "callback_missed"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		texts := f.twilio.Messages()
		if len(texts) != 2 {
			t.Fatalf("%d texts sent, want the text-back and the reply", len(texts))
		}
		sid := texts[1].SID
		entries := len(outbox(t, s, "chat.thread.slack"))
		for _, state := range []bot.SMSState{bot.SMSSent, bot.SMSDelivered} {
			counter := s.CountStatements()
			known, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: sid, State: state})
			s.StopCounting()
			if err != nil || !known {
				t.Fatalf("receipt %s: known %v, %v", state, known, err)
			}
			if s.Dialect() == "postgres" && counter.Total() != 1 {
				t.Errorf("the reply's %q receipt sent %d statements, want 1 (the write, on the reply as kept):\n%s",
					state, counter.Total(), strings.Join(counter.Sequence(), "\n"))
			}
		}
		m, err := s.ReadMessageBySID(ctx, sid)
		if err != nil || m.Status != string(bot.SMSDelivered) || m.Kind != "template" {
			t.Errorf("the reply is %q (kind %q, %v), want a delivered template reply", m.Status, m.Kind, err)
		}
		if n := len(outbox(t, s, "chat.thread.slack")); n != entries+1 {
			t.Errorf("%d thread entry rows after the receipts, want %d: the reply's entry gets its ✓", n, entries+1)
		}
	})
}
