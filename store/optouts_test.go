package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

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
		c := store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900123", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &c); err != nil {
			t.Fatal(err)
		}
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
