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

// ReadCallReport reads the call, and when the report may open a case the
// caller's case and facts, drawing the new case's ids only when one opens;
// with lock it holds the caller's lock till the transaction ends, whether
// or not the call is known (a second transaction locking the caller waits
// on PostgreSQL; SQLite transactions write one at a time anyway), and says
// the facts were read before it (BeforeLock).
func TestReadCallReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const sid, caller, line = "CA0001", "+447700900123", "+441632960001"
		pg := s.Dialect() == "postgres"
		lockedMeanwhile := func(number string) bool {
			wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			return s.InTx(wait, func(tx *store.Tx) error { return tx.LockCaller(wait, number) }) != nil
		}
		read := func(lock, opens bool, during func()) store.CallReading {
			t.Helper()
			var r store.CallReading
			err := s.InTx(ctx, func(tx *store.Tx) error {
				var err error
				if r, err = tx.ReadCallReport(ctx, sid, caller, line, lock, opens); err == nil && during != nil {
					during()
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		contact, _, err := s.UpsertContact(ctx, store.Contact{Name: "Ann Tenant", Kind: "tenant"}, []string{caller}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if r := read(false, false, nil); r.Call != nil || r.Facts.Contact != nil {
			t.Fatalf("a new call, nothing to open: %+v, want nothing", r)
		}
		r := read(true, true, func() {
			if pg && !lockedMeanwhile(caller) {
				t.Error("another transaction took the caller's lock while this one held it")
			}
			if pg && lockedMeanwhile("+447700900999") {
				t.Error("another caller's lock waited")
			}
		})
		if r.Call != nil || r.Open != nil || r.Previous != nil || r.Facts.Contact == nil || r.Facts.Contact.ID != contact ||
			(r.Facts.IDs.Case != 0) != pg || (r.Facts.IDs.Message != 0) != pg || r.Facts.BeforeLock != pg {
			t.Fatalf("a new call: %+v, want no call nor case, the contact, ids drawn and read before the lock %v", r, pg)
		}
		if pg && lockedMeanwhile(caller) {
			t.Error("the caller's lock outlived the transaction")
		}
		call := store.Call{SID: sid, Provider: "twilio", LineNumber: line, CallerNumber: caller, Status: "ringing", StartedAt: t0, CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCall(ctx, &call); err != nil {
			t.Fatal(err)
		}
		c := store.Case{LineNumber: line, CallerNumber: caller, State: store.CaseOpen, Origin: "call", CallCount: 2, CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &c); err != nil {
			t.Fatal(err)
		}
		r = read(true, true, nil)
		if r.Call == nil || r.Call.ID != call.ID || r.Call.Status != "ringing" || !r.Call.StartedAt.Equal(t0) || r.Open == nil ||
			r.Open.ID != c.ID || r.Open.CallCount != 2 || r.Facts.IDs.Case != 0 {
			t.Fatalf("a known call, an open case: %+v, want both whole, no ids", r)
		}
		c.State = store.CaseClosed
		if err := s.UpdateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		call.Missed = true
		if err := s.UpdateCall(ctx, call); err != nil {
			t.Fatal(err)
		}
		r = read(false, true, nil)
		if r.Call == nil || !r.Call.Missed || r.Previous == nil || *r.Previous != c.ID || r.Facts.IDs.Case != 0 || r.Facts.BeforeLock {
			t.Fatalf("a call already missed, a closed case: %+v, want the previous case, no ids (no case opens)", r)
		}
		r = read(false, false, nil)
		if r.Call == nil || r.Call.ID != call.ID || r.Previous != nil || r.Facts.Contact != nil {
			t.Fatalf("a report that opens nothing: %+v, want the call only", r)
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
