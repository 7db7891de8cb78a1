package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A handover reports the cases closed in its window, spam and other lines
// left out, with each case's latest staff note.
func TestClosedBetweenAndLatestNotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		closed := func(caller, line string, at time.Time, spam bool) store.Case {
			c := store.Case{LineNumber: line, CallerNumber: caller, State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0, Spam: spam}
			if _, err := s.InsertCase(ctx, &c); err != nil {
				t.Fatal(err)
			}
			c.State, c.ClosedAt, c.Outcome = store.CaseClosed, &at, "booked"
			if err := s.UpdateCase(ctx, c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		a := closed("+447700900101", "+441632960001", t0.Add(time.Hour), false)
		closed("+447700900102", "+441632960001", t0.Add(-time.Hour), false)  // before the window
		closed("+447700900103", "+441632960001", t0.Add(2*time.Hour), true)  // spam
		closed("+447700900104", "+441632960002", t0.Add(2*time.Hour), false) // another line
		b := closed("+447700900105", "+441632960001", t0.Add(3*time.Hour), false)
		rows, total, err := s.ClosedBetween(ctx, "+441632960001", t0, t0.Add(3*time.Hour), 1)
		if err != nil || total != 2 || len(rows) != 1 || rows[0].ID != a.ID {
			t.Fatalf("closed = %d rows (%d in all), %v; want case %d of 2", len(rows), total, err, a.ID)
		}
		for i, e := range []struct {
			id         int64
			kind, note string
		}{{a.ID, "callback", "left a voicemail"}, {a.ID, "closed", "booked for Tuesday"}, {b.ID, "callback", "no answer"}, {b.ID, "closed", ""}, {b.ID, "claimed", "not a note"}} {
			if err := s.AddEvent(ctx, e.id, t0.Add(time.Duration(i)*time.Minute), e.kind, "U0ALICE", map[string]string{"note": e.note}); err != nil {
				t.Fatal(err)
			}
		}
		notes, err := s.LatestNotes(ctx, []int64{a.ID, b.ID, 999})
		if err != nil || len(notes) != 2 || notes[a.ID] != "booked for Tuesday" || notes[b.ID] != "no answer" {
			t.Fatalf("notes = %v, %v", notes, err)
		}
	})
}
