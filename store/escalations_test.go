package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

func at(min int) *time.Time {
	t := t0.Add(time.Duration(min) * time.Minute)
	return &t
}

// A case's escalation is one row: saved whole, replaced whole, due at the
// earliest of its times.
func TestEscalationIsOneRowPerCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b := storetest.OpenCase(t, s, t0), store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900999", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &b); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LockEscalation(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no row yet: %v, want ErrNotFound", err)
		}
		ea := store.Escalation{CaseID: a.ID, Policy: `[]`, Base: t0, Step: 1, StepAt: at(30), RepeatStep: 0, RepeatAt: at(20), AckOwner: "U1", AckAt: at(40)}
		eb := store.Escalation{CaseID: b.ID, Base: t0, StepAt: at(10), RepeatStep: -1}
		for _, e := range []store.Escalation{ea, eb} {
			if err := s.SaveEscalation(ctx, e, t0); err != nil {
				t.Fatal(err)
			}
		}
		if due, err := s.DueEscalations(ctx, t0.Add(15*time.Minute), 10); err != nil || len(due) != 1 || due[0] != b.ID {
			t.Fatalf("due at +15 = %v (%v), want only b", due, err)
		}
		if due, _ := s.DueEscalations(ctx, t0.Add(25*time.Minute), 10); len(due) != 2 || due[0] != b.ID || due[1] != a.ID {
			t.Fatalf("due at +25 = %v, want b then a (its repeat, the earliest of its times)", due)
		}
		got, err := s.EscalationOf(ctx, a.ID)
		if err != nil || got.FireAt == nil || !got.FireAt.Equal(*at(20)) || got.AckOwner != "U1" || got.Step != 1 || got.Policy != "[]" {
			t.Fatalf("row a = %+v (%v)", got, err)
		}
		// Replaced whole: nothing pending leaves it out of the due list.
		got.StepAt, got.RepeatAt, got.AckAt, got.Fired, got.Passed = nil, nil, nil, 5, 2
		if err := s.SaveEscalation(ctx, got, t0); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueEscalations(ctx, t0.Add(time.Hour), 10); len(due) != 1 || due[0] != b.ID {
			t.Fatalf("due after a's times were cleared = %v", due)
		}
		if got, _ := s.EscalationOf(ctx, a.ID); got.FireAt != nil || got.Fired != 5 || got.Passed != 2 {
			t.Fatalf("row a after replace = %+v", got)
		}
		// A skipped row is never due again; its other columns stay.
		if err := s.SkipEscalation(ctx, b.ID, t0); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueEscalations(ctx, t0.Add(time.Hour), 10); len(due) != 0 {
			t.Fatalf("due after skip = %v", due)
		}
		if got, _ := s.EscalationOf(ctx, b.ID); got.StepAt == nil {
			t.Fatal("skip touched step_at")
		}
	})
}

// Migration 00022 carries each open case's pending steps over into its one
// row: the latest round's next pending step, the fired and canceled ones
// as masks, the awaited owner; closed cases and finished ones get none.
func TestMigrationCarriesPendingStepsOver(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		s := storetest.Open(t, storetest.URL(t, backend))
		if err := s.MigrateUpTo(ctx, 21); err != nil {
			t.Fatal(err)
		}
		open, done := storetest.OpenCase(t, s, t0), store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900999", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &done); err != nil {
			t.Fatal(err)
		}
		db := s.DB()
		for _, r := range []struct {
			caseID              int64
			kind                string
			step, round, repeat int
			owner, state        string
			fireAt              *time.Time
		}{
			{open.ID, "step", 0, 0, 0, "", "fired", at(10)},
			{open.ID, "step", 1, 0, 0, "", "canceled", at(30)},
			{open.ID, "step", 2, 0, 0, "", "pending", at(120)},
			{open.ID, "step", 1, 0, 1, "", "pending", at(45)},
			{open.ID, "owner_ack", 1, 0, 0, "U0ALICE", "pending", at(50)},
			{done.ID, "step", 0, 0, 0, "", "fired", at(10)},
		} {
			if _, err := db.Exec(db.Rebind(`INSERT INTO escalations (case_id, kind, step, round, repeat_n, owner, fire_at, state, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), r.caseID, r.kind, r.step, r.round, r.repeat, r.owner, r.fireAt.UTC(), r.state, t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		e, err := s.EscalationOf(ctx, open.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Step != 2 || !e.StepAt.Equal(*at(120)) || e.Fired != 1 || e.Passed != 2 || e.RepeatStep != 1 || e.RepeatN != 1 ||
			!e.RepeatAt.Equal(*at(45)) || e.AckOwner != "U0ALICE" || !e.AckAt.Equal(*at(50)) || !e.FireAt.Equal(*at(45)) || e.Policy != "" {
			t.Fatalf("carried over = %+v", e)
		}
		if _, err := s.EscalationOf(ctx, done.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a case with nothing pending got a row: %v", err)
		}
	})
}
