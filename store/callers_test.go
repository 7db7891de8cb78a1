package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// CallerFacts answers in one statement what a new case asks of its caller's
// number, each fact as the single-row queries it replaces answer it.
func TestCallerFacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const number = "+447700900123"
		f, err := s.CallerFacts(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if f.Contact != nil || f.Spam || f.OptedOut || f.Untextable != "" || !f.LastTextBack.IsZero() {
			t.Fatalf("an unknown number: %+v, want no facts", f)
		}
		id, _, err := s.UpsertContact(ctx, store.Contact{Name: "Ann Tenant", Kind: "tenant", Property: "1 High St", Unit: "2"}, []string{number}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddSpam(ctx, number, "U0MANAGER1", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OptOut(ctx, number, "keyword", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkUntextable(ctx, number, "landline", t0); err != nil {
			t.Fatal(err)
		}
		sent := t0.Add(90 * time.Minute)
		for _, m := range []store.Message{
			{Kind: "textback", Status: "delivered", CreatedAt: t0},
			{Kind: "textback", Status: "queued", CreatedAt: sent},
			{Kind: "textback", Status: "failed", CreatedAt: sent.Add(time.Minute)}, // refused: no cooldown
			{Kind: "template", Status: "queued", CreatedAt: sent.Add(2 * time.Minute)},
		} {
			m.Direction, m.LineNumber, m.CallerNumber, m.Body, m.UpdatedAt = store.Outbound, "+441632960001", number, "hi", m.CreatedAt
			if _, err := s.InsertMessage(ctx, &m); err != nil {
				t.Fatal(err)
			}
		}
		f, err = s.CallerFacts(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if f.Contact == nil || f.Contact.ID != id || f.Contact.Name != "Ann Tenant" || f.Contact.Kind != "tenant" || f.Contact.Property != "1 High St" || f.Contact.Unit != "2" {
			t.Errorf("contact = %+v, want Ann Tenant (#%d)", f.Contact, id)
		}
		if !f.Spam || !f.OptedOut || f.Untextable != "landline" {
			t.Errorf("spam %v, opted out %v, untextable %q: want true, true, landline", f.Spam, f.OptedOut, f.Untextable)
		}
		last, err := s.LastTextBack(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if !f.LastTextBack.Equal(sent) || !f.LastTextBack.Equal(last) {
			t.Errorf("last text-back = %v, want %v (LastTextBack says %v)", f.LastTextBack, sent, last)
		}
		if other, err := s.CallerFacts(ctx, "+447700900999"); err != nil || other.Contact != nil || other.Spam || other.OptedOut {
			t.Errorf("another number: %+v %v, want no facts", other, err)
		}
	})
}

// CallerCase is the caller's open case on the line, else their latest one.
func TestCallerCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const caller, line = "+447700900123", "+441632960001"
		if _, _, err := s.CallerCase(ctx, caller, line); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no case yet: %v, want ErrNotFound", err)
		}
		add := func(state string, at time.Time) store.Case {
			c := store.Case{LineNumber: line, CallerNumber: caller, State: state, Origin: "call", CreatedAt: at, UpdatedAt: at}
			if inserted, err := s.InsertCase(ctx, &c); err != nil || !inserted {
				t.Fatalf("insert case: %v %v", inserted, err)
			}
			return c
		}
		old := add(store.CaseOpen, t0) // reopened below, after a newer case closed
		old.State = store.CaseClosed
		if err := s.UpdateCase(ctx, old); err != nil {
			t.Fatal(err)
		}
		newer := add(store.CaseClosed, t0.Add(time.Hour))
		if c, open, err := s.CallerCase(ctx, caller, line); err != nil || open || c.ID != newer.ID {
			t.Fatalf("all closed: #%d open %v %v, want the latest #%d, closed", c.ID, open, err, newer.ID)
		}
		old.State = store.CaseOpen
		if err := s.UpdateCase(ctx, old); err != nil {
			t.Fatal(err)
		}
		if c, open, err := s.CallerCase(ctx, caller, line); err != nil || !open || c.ID != old.ID {
			t.Fatalf("an older case reopened: #%d open %v %v, want #%d, open", c.ID, open, err, old.ID)
		}
	})
}

// LockedCallBySID answers as CallBySID and holds the caller's lock till
// the transaction ends, whether or not the call is known: a second
// transaction locking the caller waits (PostgreSQL; SQLite transactions
// write one at a time anyway).
func TestLockedCallBySID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const sid, caller, line = "CA0001", "+447700900123", "+441632960001"
		lockedMeanwhile := func(number string) bool {
			wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			return s.InTx(wait, func(tx *store.Tx) error { return tx.LockCaller(wait, number) }) != nil
		}
		for _, known := range []bool{false, true} {
			var want store.Call
			if known {
				want = store.Call{SID: sid, Provider: "twilio", LineNumber: line, CallerNumber: caller, StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}
				if inserted, err := s.InsertCall(ctx, &want); err != nil || !inserted {
					t.Fatalf("insert call: %v %v", inserted, err)
				}
			}
			err := s.InTx(ctx, func(tx *store.Tx) error {
				c, err := tx.LockedCallBySID(ctx, sid, caller)
				switch {
				case !known && !errors.Is(err, store.ErrNotFound):
					t.Errorf("no call yet: %v, want ErrNotFound", err)
				case known && (err != nil || c.ID != want.ID || c.CallerNumber != caller):
					t.Errorf("a known call: %+v %v, want #%d", c, err, want.ID)
				}
				if s.Dialect() != "postgres" {
					return nil
				}
				if !lockedMeanwhile(caller) {
					t.Errorf("call known %v: another transaction took the caller's lock while this one held it", known)
				}
				if lockedMeanwhile("+447700900999") {
					t.Errorf("call known %v: another caller's lock waited", known)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if s.Dialect() == "postgres" && lockedMeanwhile(caller) {
				t.Errorf("call known %v: the caller's lock outlived the transaction", known)
			}
		}
	})
}

// CallerCaseFacts gives a missed call what it needs to open a case: the
// open case whole when there is one (and no facts, no ids: no case opens),
// else the latest case's id and the caller's facts, with the new case's
// ids drawn on PostgreSQL.
func TestCallerCaseFacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const caller, line = "+447700900123", "+441632960001"
		ask := func() (open *store.Case, previous *int64, facts store.CallerFacts) {
			t.Helper()
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				open, previous, facts, err = tx.CallerCaseFacts(ctx, caller, line)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return open, previous, facts
		}
		drawn := s.Dialect() == "postgres"
		id, _, err := s.UpsertContact(ctx, store.Contact{Name: "Ann Tenant", Kind: "tenant"}, []string{caller}, t0)
		if err != nil {
			t.Fatal(err)
		}
		open, previous, facts := ask()
		if open != nil || previous != nil || facts.Contact == nil || facts.Contact.ID != id || (facts.IDs.Case != 0) != drawn || (facts.IDs.Message != 0) != drawn {
			t.Fatalf("a first call: open %v, previous %v, facts %+v; want no case, the contact, ids drawn %v", open, previous, facts, drawn)
		}
		firstDrawn := facts.IDs.Case
		c := store.Case{LineNumber: line, CallerNumber: caller, State: store.CaseOpen, Origin: "call", CallCount: 2, CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &c); err != nil {
			t.Fatal(err)
		}
		open, previous, facts = ask()
		if open == nil || open.ID != c.ID || open.CallCount != 2 || open.CallerNumber != caller || previous != nil || facts.IDs.Case != 0 {
			t.Fatalf("an open case: open %+v, previous %v, ids %+v; want case #%d whole, no ids", open, previous, facts.IDs, c.ID)
		}
		c.State = store.CaseClosed
		if err := s.UpdateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		open, previous, facts = ask()
		if open != nil || previous == nil || *previous != c.ID || facts.Contact == nil {
			t.Fatalf("a closed case: open %v, previous %v, facts %+v; want #%d as the previous case", open, previous, facts, c.ID)
		}
		// The open case's read drew no ids: the numbers people see have no gap.
		if drawn && facts.IDs.Case != c.ID+1 {
			t.Errorf("case id drawn after the open case's read = %d, want %d (first drawn %d)", facts.IDs.Case, c.ID+1, firstDrawn)
		}
	})
}
