package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A transaction's writes made at its commit (a call, an escalation, a
// callback link) are read back by the transaction itself, and a second
// write to the same row in it wins, as if each had been made at once.
func TestWritesAtCommitAreReadByTheirTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertCallLater(ctx, store.Call{SID: "CA1", Provider: "twilio", LineNumber: c.LineNumber, CallerNumber: c.CallerNumber,
				Status: "no-answer", Missed: true, CaseID: &c.ID, StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				return err
			}
			if err := tx.SaveEscalation(ctx, store.Escalation{CaseID: c.ID, Base: t0, Step: 1}, t0); err != nil {
				return err
			}
			// The same row again: written after the first, not beside it.
			if err := tx.SaveEscalation(ctx, store.Escalation{CaseID: c.ID, Base: t0, Step: 2}, t0); err != nil {
				return err
			}
			call, err := tx.CallBySID(ctx, "CA1")
			if err != nil || call.Status != "no-answer" || !call.Missed {
				t.Errorf("the transaction reads its call as %+v, %v", call, err)
			}
			call.Status = "completed"
			if err := tx.UpdateCall(ctx, call); err != nil {
				return err
			}
			e, err := tx.EscalationOf(ctx, c.ID)
			if err != nil || e.Step != 2 {
				t.Errorf("the transaction reads its escalation at step %d (%v), want 2", e.Step, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if call, err := s.CallBySID(ctx, "CA1"); err != nil || call.Status != "completed" {
			t.Errorf("after the commit the call is %q (%v), want completed", call.Status, err)
		}
	})
}

// On PostgreSQL the writes made at the commit, the events and the outbox
// rows go in one statement, however many tables it writes; a transaction
// that reads nothing first sends that statement alone, which commits as it
// ends: no BEGIN and no COMMIT (3 statements before).
func TestWritesAtCommitAreOneStatementOnPostgres(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		counter := s.CountStatements()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertCallLater(ctx, store.Call{SID: "CA1", Provider: "twilio", LineNumber: c.LineNumber, CaseID: &c.ID, StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				return err
			}
			if err := tx.SaveEscalation(ctx, store.Escalation{CaseID: c.ID, Base: t0, Step: 1}, t0); err != nil {
				return err
			}
			if err := tx.InsertCallbackLink(ctx, store.CallbackLink{CaseID: c.ID, Hash: "aa11", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
				return err
			}
			if err := tx.AddEvent(ctx, c.ID, t0, "case_opened", "", nil); err != nil {
				return err
			}
			return tx.EnqueueLater(store.NewOutbox{Kind: "sms.send", DedupeKey: "textback:1", Payload: map[string]int{"message_id": 1}, CaseID: c.ID, RunAt: t0}, t0)
		})
		s.StopCounting()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"postgres": 1, "sqlite": 7}[s.Dialect()]
		if n := counter.Total(); n != want {
			t.Errorf("%d statements, want %d: %q", n, want, counter.Sequence())
		}
		var rows int
		for _, table := range []string{"calls", "case_escalations", "callback_links", "events", "outbox"} {
			if err := s.DB().Get(&rows, `SELECT COUNT(*) FROM `+table); err != nil || rows != 1 {
				t.Errorf("%s: %d rows (%v), want 1", table, rows, err)
			}
		}
	})
}

// A call another transaction recorded first fails the commit with
// ErrDuplicate, and nothing the transaction wrote stays.
func TestCallWrittenMeanwhileFailsTheCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		call := store.Call{SID: "CA1", Provider: "twilio", LineNumber: c.LineNumber, StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCall(ctx, &call); err != nil {
			t.Fatal(err)
		}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.AddEvent(ctx, c.ID, t0, "call_repeat", "", nil); err != nil {
				return err
			}
			if err := tx.SaveEscalation(ctx, store.Escalation{CaseID: c.ID, Base: t0, Step: 1}, t0); err != nil {
				return err
			}
			return tx.InsertCallLater(ctx, store.Call{SID: "CA1", Provider: "twilio", LineNumber: c.LineNumber, StartedAt: t0, CreatedAt: t0, UpdatedAt: t0})
		})
		if !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("commit: %v, want ErrDuplicate", err)
		}
		var events, escalations int
		_ = s.DB().Get(&events, `SELECT COUNT(*) FROM events`)
		_ = s.DB().Get(&escalations, `SELECT COUNT(*) FROM case_escalations`)
		if events != 0 || escalations != 0 {
			t.Errorf("%d events and %d escalations stayed, want none", events, escalations)
		}
		// Any other failure is no duplicate: a callback link's hash used twice.
		if err := s.InsertCallbackLink(ctx, store.CallbackLink{CaseID: c.ID, Hash: "bb22", CreatedAt: t0, ExpiresAt: t0}); err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertCallbackLink(ctx, store.CallbackLink{CaseID: c.ID, Hash: "bb22", CreatedAt: t0, ExpiresAt: t0})
		})
		if err == nil || errors.Is(err, store.ErrDuplicate) {
			t.Errorf("a link's hash used twice: %v, want an error that is not ErrDuplicate", err)
		}
	})
}

// A row marked done at the commit of the transaction that performed it is
// done only under the claim it was handed out under: the transaction is
// told whether that claim was still current, and a claim taken over
// leaves the row to its new worker.
func TestOutboxCompletedAtCommitHonoursTheClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := callerCase(t, s, "+447700900001")
		enqueue(t, s, "a", t0)
		enqueue(t, s, "b", t0)
		got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w1", Now: t0, Lease: 30 * time.Second, Limit: 2})
		if err != nil || len(got) != 2 {
			t.Fatalf("claimed %d (%v)", len(got), err)
		}
		complete := func(it store.OutboxItem) (held bool) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.AddEvent(ctx, c.ID, t0, "sms_sent", "", nil); err != nil {
					return err
				}
				return tx.CompleteOutboxLater(ctx, it, t0, func(h bool) { held = h })
			})
			if err != nil {
				t.Fatal(err)
			}
			return held
		}
		if !complete(got[0]) {
			t.Error("a current claim: not held")
		}
		// Row b's claim is taken over (its lease lapsed, say): the old
		// claim completes nothing.
		if _, err := s.DB().Exec(s.DB().Rebind(`UPDATE outbox SET claim_seq = claim_seq + 1, locked_by = 'w2' WHERE id = ?`), got[1].ID); err != nil {
			t.Fatal(err)
		}
		if complete(got[1]) {
			t.Error("a claim taken over: held")
		}
		var states []string
		if err := s.DB().Select(&states, `SELECT state FROM outbox ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(states) != 2 || states[0] != store.OutboxDone || states[1] != "running" {
			t.Errorf("states %q, want done and running", states)
		}
	})
}

// A write made at once after a write waiting for the commit goes after it:
// a message written at once for a case the transaction writes at its
// commit finds its case (its statement names no cases table to flush it).
func TestWriteAtOnceFollowsTheWaitingOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := store.Case{ID: 4242, LineNumber: "+441632960001", CallerNumber: "+447700900001", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertCaseLater(ctx, c); err != nil {
				return err
			}
			_, err := tx.InsertMessage(ctx, &store.Message{CaseID: &c.ID, Direction: store.Outbound, Kind: "template",
				LineNumber: c.LineNumber, CallerNumber: c.CallerNumber, Body: "hi", Status: "pending", CreatedAt: t0, UpdatedAt: t0})
			return err
		})
		if err != nil {
			t.Fatalf("a message for the case written at the commit: %v", err)
		}
		if got, err := s.CaseByID(ctx, c.ID); err != nil || got.CallerNumber != c.CallerNumber {
			t.Errorf("case %+v, %v", got, err)
		}
	})
}
