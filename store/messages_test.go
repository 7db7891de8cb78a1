package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

func pendingMessage(t *testing.T, s *store.Store) store.Message {
	t.Helper()
	m := store.Message{
		Direction: store.Outbound, Kind: "textback", LineNumber: "+441632960001", CallerNumber: "+447700900123",
		Body: "Sorry we missed your call.", Status: "pending", CreatedAt: t0, UpdatedAt: t0,
	}
	if _, err := s.InsertMessage(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// A re-run of a send must know when the FIRST attempt began, whatever later
// attempts did: that is where it looks for the text at the provider.
func TestStartSendKeepsTheFirstAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := pendingMessage(t, s)
		if got, _ := s.MessageByID(ctx, m.ID); got.SendStartedAt != nil {
			t.Fatalf("a message never tried has send_started_at %v", got.SendStartedAt)
		}
		first := t0.Add(time.Minute)
		at, err := s.StartSend(ctx, m.ID, first)
		if err != nil || !at.Equal(first) {
			t.Fatalf("first attempt: %v %v, want %v", at, err, first)
		}
		at, err = s.StartSend(ctx, m.ID, first.Add(time.Hour))
		if err != nil || !at.Equal(first) {
			t.Fatalf("second attempt: %v %v, want the first attempt's %v", at, err, first)
		}
		got, err := s.MessageByID(ctx, m.ID)
		if err != nil || got.SendStartedAt == nil || !got.SendStartedAt.Equal(first) {
			t.Fatalf("stored send_started_at = %v %v, want %v", got.SendStartedAt, err, first)
		}
		// Recording the acceptance leaves it as it was.
		sid := "SM0123456789abcdef0123456789abcdef"
		got.SID, got.Status, got.AcceptedAt = &sid, "queued", &first
		if err := s.UpdateMessage(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MessageBySID(ctx, sid); got.SendStartedAt == nil || !got.SendStartedAt.Equal(first) {
			t.Fatalf("after acceptance send_started_at = %v", got.SendStartedAt)
		}
		if _, err := s.StartSend(ctx, m.ID+100, first); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("StartSend of a missing message: %v, want ErrNotFound", err)
		}
	})
}

// An early receipt keeps the bot's word for why the text failed until the
// message's SID is known.
func TestEarlyReceiptKeepsItsProblem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sid := "SM0123456789abcdef0123456789abcdef"
		if err := s.KeepReceipt(ctx, store.Receipt{SID: sid, Status: "sent", ReceivedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.KeepReceipt(ctx, store.Receipt{SID: sid, Status: "undelivered", Problem: "not_textable", ErrorCode: "30006", ReceivedAt: t0.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		r, ok, err := s.TakeReceipt(ctx, sid)
		if err != nil || !ok || r.Status != "undelivered" || r.Problem != "not_textable" || r.ErrorCode != "30006" {
			t.Fatalf("TakeReceipt = %+v %v %v, want the later receipt with its problem", r, ok, err)
		}
		if _, ok, _ := s.TakeReceipt(ctx, sid); ok {
			t.Fatal("a receipt was taken twice")
		}
	})
}

// AcceptMessageLocked records a text's SID holding the SID's lock. A
// receipt kept before it (by a receipt handler that held the lock first)
// is seen: on SQLite by the statement (receiptWaits), on PostgreSQL, where
// the statement read early receipts before it had the lock, by the commit,
// which fails with ErrReceiptWaits and leaves the text as it was; running
// it again with LockMessageSID first then finds the receipt.
func TestAcceptMessageLockedSeesAReceiptKeptWhileItWaited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		m := store.Message{CaseID: &c.ID, Direction: "out", Kind: "textback", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
			Body: "Sorry we missed you", Status: "pending", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertMessage(ctx, &m); err != nil {
			t.Fatal(err)
		}
		const sid = "SM0123456789abcdef0123456789abcdef"
		accept := func() (recorded, receiptWaits bool, err error) {
			err = s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				_, recorded, receiptWaits, err = tx.AcceptMessageLocked(ctx, m.ID, sid, "queued", t0)
				return err
			})
			return recorded, receiptWaits, err
		}
		keep := func(tx *store.Tx) error {
			if err := tx.LockMessageSID(ctx, sid); err != nil {
				return err
			}
			return tx.KeepReceipt(ctx, store.Receipt{SID: sid, Status: "undelivered", ErrorCode: "30003", ReceivedAt: t0})
		}
		if s.Dialect() == "sqlite" {
			if err := s.InTx(ctx, keep); err != nil {
				t.Fatal(err)
			}
			if recorded, waits, err := accept(); err != nil || !recorded || !waits {
				t.Fatalf("recorded %v, receipt waits %v (%v), want both", recorded, waits, err)
			}
			return
		}
		// The receipt handler holds the SID's lock and keeps its receipt;
		// the worker's statement starts, and waits for the lock.
		err := keptWhileWaiting(t, s, sid, "UPDATE messages SET sid%pg_advisory_xact_lock%", func() error {
			_, _, err := accept()
			return err
		})
		if !errors.Is(err, store.ErrReceiptWaits) {
			t.Fatalf("the commit: %v, want ErrReceiptWaits", err)
		}
		if got, err := s.MessageByID(ctx, m.ID); err != nil || got.SID != nil || got.Status != "pending" {
			t.Fatalf("after the failed commit: %+v (%v), want the text as it was", got, err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.LockMessageSID(ctx, sid); err != nil {
				return err
			}
			_, recorded, waits, err := tx.AcceptMessage(ctx, m.ID, sid, "queued", t0)
			if err == nil && (!recorded || !waits) {
				t.Errorf("run again: recorded %v, receipt waits %v, want both", recorded, waits)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// AcceptMessageAsRead records a text's acceptance with the transaction's
// other writes: on PostgreSQL a transaction of nothing else is that one
// statement, committing alone (was BEGIN, the message's UPDATE, the
// writes, COMMIT). What it cannot record as read fails the commit with
// ErrChangedMeanwhile and writes nothing: a receipt waiting for the SID
// (kept while the statement waited for the SID's lock, too), a text
// recorded already, and on PostgreSQL a text changed since it was read.
func TestAcceptMessageAsReadIsOneStatementOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const sid = "SM0123456789abcdef0123456789abcdef"
		n := 0
		pendingTextBack := func(t *testing.T, s *store.Store) store.Message {
			t.Helper()
			n++
			return pendingTextBackOf(t, s, fmt.Sprintf("+44770090%04d", n))
		}
		// accept records m as read, with an event on its case, counting
		// the statements sent.
		accept := func(m store.Message, sid string) (store.Message, *store.Statements, error) {
			counter := s.CountStatements()
			defer s.StopCounting()
			var got store.Message
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				if got, err = tx.AcceptMessageAsRead(ctx, m, sid, "queued", t0.Add(time.Minute)); err != nil {
					return err
				}
				return tx.AddEvent(ctx, *m.CaseID, t0, "sms_sent", "", nil)
			})
			return got, counter, err
		}
		unchanged := func(m store.Message) {
			t.Helper()
			if got, err := s.MessageByID(ctx, m.ID); err != nil || got.SID != nil || got.Status != m.Status || got.AcceptedAt != nil {
				t.Errorf("after the failed commit the text is %+v (%v), want it as it was", got, err)
			}
			if es, err := s.EventsForCase(ctx, *m.CaseID); err != nil || len(es) != 0 {
				t.Errorf("after the failed commit the case has events %+v (%v), want none", es, err)
			}
		}

		m := pendingTextBack(t, s)
		got, counter, err := accept(m, sid)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"postgres": 1, "sqlite": 4}[s.Dialect()]; counter.Total() != want {
			t.Errorf("%d statements, want %d: %q", counter.Total(), want, counter.Sequence())
		}
		stored, err := s.MessageByID(ctx, m.ID)
		if err != nil || stored.SID == nil || *stored.SID != sid || stored.Status != "queued" || stored.AcceptedAt == nil {
			t.Fatalf("stored %+v (%v), want it accepted as %s, queued", stored, err, sid)
		}
		if got.Status != "queued" || got.SID == nil || *got.SID != sid || got.AcceptedAt == nil || !got.AcceptedAt.Equal(*stored.AcceptedAt) {
			t.Errorf("returned %+v, want it as stored: %+v", got, stored)
		}
		if es, err := s.EventsForCase(ctx, *m.CaseID); err != nil || len(es) != 1 {
			t.Errorf("events %+v (%v), want the one written with it", es, err)
		}

		// Recorded already (by a worker whose claim overlapped), as read
		// before that: nothing written again.
		if _, _, err := accept(m, sid); !errors.Is(err, store.ErrChangedMeanwhile) {
			t.Errorf("recording a text recorded already: %v, want ErrChangedMeanwhile", err)
		}
		if again, err := s.MessageByID(ctx, m.ID); err != nil || !again.AcceptedAt.Equal(*stored.AcceptedAt) {
			t.Errorf("the text was recorded again: %+v (%v)", again, err)
		}
		if es, err := s.EventsForCase(ctx, *m.CaseID); err != nil || len(es) != 1 {
			t.Errorf("events %+v (%v), want only the first recording's", es, err)
		}

		// A receipt for the SID waits.
		m = pendingTextBack(t, s)
		const bounced = "SMbounced0123456789abcdef0123456789"
		if err := s.KeepReceipt(ctx, store.Receipt{SID: bounced, Status: "undelivered", ErrorCode: "30003", ReceivedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := accept(m, bounced); !errors.Is(err, store.ErrChangedMeanwhile) {
			t.Errorf("with a receipt waiting: %v, want ErrChangedMeanwhile", err)
		}
		unchanged(m)
		if s.Dialect() != "postgres" {
			return
		}

		// Changed since it was read (canceled meanwhile).
		m = pendingTextBack(t, s)
		if _, err := s.DB().Exec(`UPDATE messages SET status = 'canceled' WHERE id = $1`, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := accept(m, "SMcanceled"); !errors.Is(err, store.ErrChangedMeanwhile) {
			t.Errorf("a text canceled since it was read: %v, want ErrChangedMeanwhile", err)
		}
		m.Status = "canceled"
		unchanged(m)

		// A receipt kept while the statement waits for the SID's lock: the
		// statement began before it was kept, and still sees it.
		m = pendingTextBack(t, s)
		const late = "SMlate0123456789abcdef0123456789abcd"
		err = keptWhileWaiting(t, s, late, "%UPDATE messages SET sid%ringback_receipt_waits%", func() error {
			_, _, err := accept(m, late)
			return err
		})
		if !errors.Is(err, store.ErrChangedMeanwhile) {
			t.Fatalf("with a receipt kept while it waited: %v, want ErrChangedMeanwhile", err)
		}
		unchanged(m)
	})
}

// keptWhileWaiting has a receipt handler take sid's lock and keep a bounce
// for it, then runs accept, and lets the handler commit once accept's
// statement (like, as pg_stat_activity shows it) waits for that lock; it
// returns accept's error. PostgreSQL only.
func keptWhileWaiting(t *testing.T, s *store.Store, sid, like string, accept func() error) error {
	t.Helper()
	return whileHoldingSID(t, s, sid, like, func(tx *store.Tx) error {
		return tx.KeepReceipt(context.Background(), store.Receipt{SID: sid, Status: "undelivered", ErrorCode: "30003", ReceivedAt: t0})
	}, accept)
}

// whileHoldingSID has a transaction take sid's lock and do hold, then
// runs run, and lets the transaction commit once run's statement (like,
// as pg_stat_activity shows it) waits for that lock; it returns run's
// error. PostgreSQL only.
func whileHoldingSID(t *testing.T, s *store.Store, sid, like string, hold func(tx *store.Tx) error, run func() error) error {
	t.Helper()
	return whileHolding(t, s, like, func(tx *store.Tx) error {
		if err := tx.LockMessageSID(context.Background(), sid); err != nil {
			return err
		}
		return hold(tx)
	}, run)
}

// whileHolding has a transaction do hold (which takes a lock), then runs
// run, and lets the transaction commit once run's statement (like, as
// pg_stat_activity shows it) waits for a lock; it returns run's error.
// PostgreSQL only.
func whileHolding(t *testing.T, s *store.Store, like string, hold func(tx *store.Tx) error, run func() error) error {
	t.Helper()
	return whileHoldingThen(t, s, like, hold, run, func() {})
}

// whileHoldingThen is whileHolding that does meanwhile once run's
// statement waits, before the holder commits.
func whileHoldingThen(t *testing.T, s *store.Store, like string, hold func(tx *store.Tx) error, run func() error, meanwhile func()) error {
	t.Helper()
	ctx := context.Background()
	held, release, committed := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // a failed wait ends the holder too, before the store is dropped
	go func() {
		committed <- s.InTx(ctx, func(tx *store.Tx) error {
			if err := hold(tx); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ran := make(chan error, 1)
	go func() { ran <- run() }()
	storetest.WaitForLockWait(t, s, like)
	meanwhile()
	free()
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	return <-ran
}

// Human contact is a staff reply the provider accepted and did not report
// failed, or a logged callback: a failed reply is no contact, and the first
// contact falls back to the next one.
func TestFirstHumanContactSkipsFailedReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		first := func() *time.Time {
			t.Helper()
			at, err := s.FirstHumanContact(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return at
		}
		if at := first(); at != nil {
			t.Fatalf("a case nobody worked has first contact %v", at)
		}
		reply := func(at time.Time, status, problem string) store.Message {
			t.Helper()
			m := store.Message{CaseID: &c.ID, Direction: store.Outbound, Kind: "template", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
				Body: "Alice tried to call you back.", SentBy: "U0ALICE", Status: status, Problem: problem, AcceptedAt: &at, CreatedAt: at, UpdatedAt: at}
			if _, err := s.InsertMessage(ctx, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		failed := reply(t0.Add(5*time.Minute), "undelivered", "unreachable")
		if got, _ := s.MessageByID(ctx, failed.ID); got.Problem != "unreachable" {
			t.Fatalf("problem = %q", got.Problem)
		}
		if at := first(); at != nil {
			t.Fatalf("an undelivered reply counts as contact at %v", at)
		}
		if err := s.AddEvent(ctx, c.ID, t0.Add(20*time.Minute), "callback", "U0ALICE", map[string]string{}); err != nil {
			t.Fatal(err)
		}
		if at := first(); at == nil || !at.Equal(t0.Add(20*time.Minute)) {
			t.Fatalf("first contact = %v, want the callback's", at)
		}
		reply(t0.Add(10*time.Minute), "delivered", "")
		if at := first(); at == nil || !at.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("first contact = %v, want the delivered reply's", at)
		}
	})
}

// The ledger keeps a number's first opt-out with where it came from, and
// lists the newest first.
func TestOptOutLedgerKeepsWhereItCameFrom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := store.OptOutEntry{Number: "+447700900123", Source: "plain_language", LineNumber: "+441632960001", Phrase: "do not text me", CreatedAt: t0}
		if added, err := s.AddOptOut(ctx, first); err != nil || !added {
			t.Fatalf("first opt-out: %v %v", added, err)
		}
		if added, err := s.AddOptOut(ctx, store.OptOutEntry{Number: "+447700900123", Source: "keyword", Phrase: "stop", CreatedAt: t0.Add(time.Minute)}); err != nil || added {
			t.Fatalf("second opt-out of the number: %v %v, want not added", added, err)
		}
		if added, err := s.OptOut(ctx, "+447700900555", "manual", t0.Add(time.Hour)); err != nil || !added {
			t.Fatalf("manual opt-out: %v %v", added, err)
		}
		got, total, err := s.OptOuts(ctx, 1)
		if err != nil || total != 2 || len(got) != 1 || got[0].Number != "+447700900555" || got[0].Source != "manual" {
			t.Fatalf("newest opt-out: %+v of %d, %v", got, total, err)
		}
		got, _, _ = s.OptOuts(ctx, 10)
		if len(got) != 2 || got[1].Source != "plain_language" || got[1].Phrase != "do not text me" || got[1].LineNumber != "+441632960001" || !got[1].CreatedAt.Equal(t0) {
			t.Fatalf("ledger: %+v", got)
		}
	})
}

// A possible opt-out stays open on its case until staff decide; the first
// decision settles it, a second finds nothing to decide.
func TestOptOutQueryIsDecidedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		sid := "SM00000000000000000000000000000001"
		m := store.Message{SID: &sid, CaseID: &c.ID, Direction: store.Inbound, Kind: "reply", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
			Body: "wrong number", Status: "received", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertMessage(ctx, &m); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenOptOutQuery(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before asking: %v", err)
		}
		for range 2 {
			if err := s.AskOptOut(ctx, store.OptOutQuery{MessageID: m.ID, CaseID: c.ID, Phrase: "wrong number", AskedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		q, err := s.OpenOptOutQuery(ctx, c.ID)
		if err != nil || q.Body != "wrong number" || q.Phrase != "wrong number" || q.Decision != "" {
			t.Fatalf("open query: %+v %v", q, err)
		}
		if n, err := s.DecideOptOut(ctx, c.ID, store.OptOutDismissed, "U0ALICE", t0.Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("decide: %d %v", n, err)
		}
		if n, err := s.DecideOptOut(ctx, c.ID, store.OptOutConfirmed, "U0BOB", t0.Add(2*time.Minute)); err != nil || n != 0 {
			t.Fatalf("second decision: %d %v, want nothing left to decide", n, err)
		}
		if _, err := s.OpenOptOutQuery(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after deciding: %v", err)
		}
	})
}

// LatestEvent finds a case's newest event of a kind, and says when there
// is none.
func TestLatestEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		if _, err := s.LatestEvent(ctx, c.ID, "triaged"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no event yet: %v", err)
		}
		for i, by := range []string{"caller", "auto"} {
			if err := s.AddEvent(ctx, c.ID, t0.Add(time.Duration(i)*time.Minute), "triaged", "", map[string]string{"by": by}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddEvent(ctx, c.ID, t0.Add(time.Hour), "claimed", "U1", nil); err != nil {
			t.Fatal(err)
		}
		e, err := s.LatestEvent(ctx, c.ID, "triaged")
		if err != nil || e.Data != `{"by":"auto"}` || !e.At.Equal(t0.Add(time.Minute)) {
			t.Fatalf("latest triaged: %+v %v", e, err)
		}
	})
}

// Both stores keep the same text for bytes PostgreSQL would refuse, and
// neither writes a time it could not read back.
func TestStoresKeepTheSameBytesAndOnlyReadableTimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := store.Call{SID: "CA\x00dirty\xff", Provider: "twilio", LineNumber: "+441632960001", Status: "no-answer",
			Transcript: "boiler\x00 off \xc3", StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCall(ctx, &c); err != nil {
			t.Fatalf("insert: %v", err)
		}
		got, err := s.CallBySID(ctx, c.SID) // the dirty key finds the clean row
		if err != nil || got.SID != "CAdirty\uFFFD" || got.Transcript != "boiler off \uFFFD" {
			t.Fatalf("read back %+v, %v", got, err)
		}
		far := store.Call{SID: "CAfar", Provider: "twilio", LineNumber: "+441632960001", Status: "no-answer",
			StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCall(ctx, &far); err == nil || !strings.Contains(err.Error(), "could not be read back") {
			t.Fatalf("a call in year 10000: %v", err)
		}
		if _, err := s.CallBySID(ctx, "CAfar"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the year 10000 call was stored: %v", err)
		}
	})
}

// A receipt reads its text with the SID's lock in one statement, and finds
// a SID that a transaction holding the lock recorded while the read waited
// for it (the statement began before the SID was there): else the receipt
// would be kept as early after the text's acceptance had looked for early
// receipts, and never applied. A SID nobody recorded is not found.
func TestLockedMessageBySIDSeesWhatCommittedWhileItWaited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const sid = "SMwait0123456789abcdef0123456789abc"
		read := func() (store.Message, error) {
			var m store.Message
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				m, err = tx.LockedMessageBySID(ctx, sid)
				return err
			})
			return m, err
		}
		if _, err := read(); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before its SID is recorded: %v, want ErrNotFound", err)
		}
		m := pendingTextBackOf(t, s, "+447700900051")
		record := func(tx *store.Tx) error {
			recorded := sid
			m.SID, m.Status = &recorded, "queued"
			return tx.UpdateMessage(ctx, m)
		}
		if s.Dialect() != "postgres" {
			if err := s.InTx(ctx, record); err != nil {
				t.Fatal(err)
			}
		} else {
			var found store.Message
			err := whileHoldingSID(t, s, sid, "%ringback_message_locked%", record, func() error {
				var err error
				found, err = read()
				return err
			})
			if err != nil || found.ID != m.ID || found.Status != "queued" {
				t.Fatalf("read while the SID was being recorded: %+v (%v), want message %d as recorded", found, err, m.ID)
			}
		}
		if got, err := read(); err != nil || got.ID != m.ID || got.SID == nil || *got.SID != sid {
			t.Errorf("read: %+v (%v), want message %d", got, err, m.ID)
		}
	})
}

// pendingTextBackOf writes an open case of caller and its text-back, not
// sent yet.
func pendingTextBackOf(t *testing.T, s *store.Store, caller string) store.Message {
	t.Helper()
	ctx := context.Background()
	c := store.Case{LineNumber: "+441632960001", CallerNumber: caller, State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
	if _, err := s.InsertCase(ctx, &c); err != nil {
		t.Fatal(err)
	}
	m := store.Message{CaseID: &c.ID, Direction: store.Outbound, Kind: "textback", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
		Body: "Sorry we missed your call.", Status: "pending", CreatedAt: t0, UpdatedAt: t0}
	if _, err := s.InsertMessage(ctx, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// UpdateMessageAsRead writes a text's delivery status with the
// transaction's other writes when the text is as read (on PostgreSQL a
// transaction of nothing else is one statement, committing alone), and
// otherwise fails the commit with ErrChangedMeanwhile, writing nothing of
// the transaction: a receipt decided on an old read never overwrites what
// another one recorded meanwhile.
func TestUpdateMessageAsReadWritesOnlyWhatItRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := pendingTextBackOf(t, s, "+447700900001")
		const sid = "SMread0123456789abcdef0123456789abcd"
		if _, _, _, err := s.AcceptMessage(ctx, m.ID, sid, "queued", t0); err != nil {
			t.Fatal(err)
		}
		read, err := s.ReadMessageBySID(ctx, sid)
		if err != nil || read.ID != m.ID || read.Status != "queued" {
			t.Fatalf("read %+v (%v), want the text, queued", read, err)
		}
		// update writes to (what the receipt decided) on the text as read,
		// with an event on its case, counting the statements sent.
		update := func(was store.Message, status, code string) (*store.Statements, error) {
			to := was
			to.Status, to.ErrorCode, to.UpdatedAt = status, code, t0.Add(time.Minute)
			counter := s.CountStatements()
			defer s.StopCounting()
			return counter, s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.UpdateMessageAsRead(ctx, was, to); err != nil {
					return err
				}
				return tx.AddEvent(ctx, *was.CaseID, t0, "sms_status", "", nil)
			})
		}

		counter, err := update(read, "sent", "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == "postgres" && counter.Total() != 1 {
			t.Errorf("%d statements, want 1: %q", counter.Total(), counter.Sequence())
		}
		sent, err := s.ReadMessageBySID(ctx, sid)
		if err != nil || sent.Status != "sent" || !sent.UpdatedAt.Equal(t0.Add(time.Minute)) || sent.SID == nil || *sent.SID != sid {
			t.Fatalf("stored %+v (%v), want it sent, its SID kept", sent, err)
		}

		// A second decision on the first read (queued), made after the text
		// moved on: nothing of it is written.
		if _, err := update(read, "undelivered", "30003"); !errors.Is(err, store.ErrChangedMeanwhile) {
			t.Errorf("writing on an old read: %v, want ErrChangedMeanwhile", err)
		}
		if got, err := s.ReadMessageBySID(ctx, sid); err != nil || got.Status != "sent" || got.ErrorCode != "" {
			t.Errorf("after the refused write the text is %q (error %q, %v), want sent as recorded", got.Status, got.ErrorCode, err)
		}
		if es, err := s.EventsForCase(ctx, *m.CaseID); err != nil || len(es) != 1 {
			t.Errorf("events %+v (%v), want only the first write's", es, err)
		}
	})
}
