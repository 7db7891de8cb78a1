package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// The approved templates are cached; a manager's edit or approval on any
// replica shows at the next read that checks the generation, and a reader
// at the generation it cached asks nothing more of the database.
func TestApprovedTemplateCache(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		ctx := context.Background()
		a, b := storetest.Migrated(t, url), storetest.Open(t, url) // two replicas
		if _, err := a.SyncTemplate(ctx, "textback_day", "Sorry we missed you.", nil, t0); err != nil {
			t.Fatal(err)
		}
		text := func(s *store.Store) string {
			t.Helper()
			f, err := s.CallerFacts(ctx, "+447700900123")
			if err != nil {
				t.Fatal(err)
			}
			tpl, err := s.ApprovedTemplateAt(ctx, "textback_day", f.Templates)
			if err != nil {
				t.Fatal(err)
			}
			return tpl.Text
		}
		if got := text(b); got != "Sorry we missed you." {
			t.Fatalf("text = %q", got)
		}
		counter := b.CountStatements()
		if got := text(b); got != "Sorry we missed you." || counter.Total() != 1 {
			t.Fatalf("a cached read: %q in %d statements, want the text in 1 (CallerFacts)", got, counter.Total())
		}

		// Staff propose on replica a: not approved, so not sent.
		v, err := a.ProposeTemplate(ctx, "textback_day", "Sorry! We'll ring you back.", nil, "U0ALICE", t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if got := text(b); got != "Sorry we missed you." {
			t.Fatalf("after a proposal: %q, want the approved text", got)
		}
		// A manager approves it on replica a: replica b sends it next.
		if err := a.ApproveTemplate(ctx, "textback_day", v.Version, "U0MANAGER1", t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := text(b); got != "Sorry! We'll ring you back." {
			t.Fatalf("after approval on another replica: %q, want the new text", got)
		}
		if _, err := b.ApprovedTemplateAt(ctx, "no_such_key", 2); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a key without an approved version: %v, want ErrNotFound", err)
		}

		// An approval that rolls back never reaches the cache.
		v, err = a.ProposeTemplate(ctx, "textback_day", "Rolled back.", nil, "U0ALICE", t0.Add(3*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		rollback := errors.New("rolled back")
		err = a.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.ApproveTemplate(ctx, "textback_day", v.Version, "U0MANAGER1", t0.Add(4*time.Minute)); err != nil {
				return err
			}
			f, err := tx.CallerFacts(ctx, "+447700900123")
			if err != nil {
				return err
			}
			if tpl, err := tx.ApprovedTemplateAt(ctx, "textback_day", f.Templates); err != nil || tpl.Text != "Rolled back." {
				t.Errorf("inside the approving transaction: %q %v, want its own approval", tpl.Text, err)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		// Another template approved since makes the count what the rolled-back
		// transaction saw.
		if _, err := b.SyncTemplate(ctx, "textback_night", "We're closed.", nil, t0.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := text(a); got != "Sorry! We'll ring you back." {
			t.Fatalf("after a rolled-back approval: %q, want the last committed approval", got)
		}
	})
}

// Events a transaction adds are written together at its commit, in order;
// the transaction reads them meanwhile; a rollback leaves none.
func TestEventsWrittenAtCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := store.Case{LineNumber: "+441632960001", CallerNumber: "+447700900123", State: store.CaseOpen, Origin: "call", CreatedAt: t0, UpdatedAt: t0}
		if _, err := s.InsertCase(ctx, &c); err != nil {
			t.Fatal(err)
		}
		counter := s.CountStatements()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for i, kind := range []string{"a", "b", "c"} {
				if err := tx.AddEvent(ctx, c.ID, t0.Add(time.Duration(i)*time.Second), kind, "", map[string]int{"n": i}); err != nil {
					return err
				}
			}
			if has, err := tx.HasEvent(ctx, c.ID, "b", `"n":1`); err != nil || !has {
				t.Errorf("the transaction's own event: %v %v", has, err)
			}
			return tx.AddEvent(ctx, c.ID, t0.Add(time.Minute), "d", "U0ALICE", nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		// BEGIN, a-c at once, the read, d, COMMIT.
		if n := counter.Total(); n != 5 {
			t.Errorf("%d statements, want 5:\n%v", n, counter.Sequence())
		}
		es, err := s.EventsForCase(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds string
		for _, e := range es {
			kinds += e.Kind
		}
		if kinds != "abcd" || es[3].Actor != "U0ALICE" || es[3].Data != "{}" || es[1].Data != `{"n":1}` || !es[2].At.Equal(t0.Add(2*time.Second)) {
			t.Errorf("events = %+v, want a, b, c, d as added", es)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.AddEvent(ctx, c.ID, t0, "e", "", nil); err != nil {
				return err
			}
			return errors.New("rolled back")
		})
		if err == nil {
			t.Fatal("the transaction did not fail")
		}
		if es, _ := s.EventsForCase(ctx, c.ID); len(es) != 4 {
			t.Errorf("%d events after a rollback, want 4", len(es))
		}
	})
}

// The config file is a template's source until managers edit it in chat;
// from then on the store is, and a differing file text is returned (to be
// reported), never applied, across restarts too.
func TestConfigTemplateYieldsToChatEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sync := func(text string, at time.Time) store.TemplateSync {
			t.Helper()
			r, err := s.SyncConfigTemplate(ctx, "greeting", text, []string{"viewing"}, at)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := sync("Hi from the file", t0); !r.Applied || r.Differs != nil {
			t.Fatalf("first sync: %+v", r)
		}
		if r := sync("Hi from the file", t0); r.Applied || r.Differs != nil {
			t.Fatalf("same text again: %+v", r)
		}
		// The operator edits the file: while the file is the source, it applies.
		if r := sync("Hi from the file, v2", t0.Add(time.Hour)); !r.Applied {
			t.Fatalf("file edit: %+v", r)
		}
		if edited, _ := s.EditedInChat(ctx, "greeting"); edited {
			t.Fatal("edited in chat before anyone did")
		}

		// A manager edits and approves in chat.
		p, err := s.ProposeTemplate(ctx, "greeting", "Hi {{caller_name|there}} from chat", []string{"viewing"}, "U0MANAGER1", t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// Pending: the file's v2 stays in use and matches, so nothing to report.
		if r := sync("Hi from the file, v2", t0.Add(3*time.Hour)); r.Applied || r.Differs != nil {
			t.Fatalf("restart with an edit pending: %+v", r)
		}
		if err := s.ApproveTemplate(ctx, "greeting", p.Version, "U0MANAGER1", t0.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// The restart: the file still says v2, which differs and is not applied.
		r := sync("Hi from the file, v2", t0.Add(5*time.Hour))
		if r.Applied || r.Differs == nil || r.Differs.Version != p.Version || r.Differs.CreatedBy != "U0MANAGER1" {
			t.Fatalf("restart after an approved chat edit: %+v", r)
		}
		if a, err := s.ApprovedTemplate(ctx, "greeting"); err != nil || a.Text != "Hi {{caller_name|there}} from chat" {
			t.Fatalf("in use after the restart: %+v %v", a, err)
		}
		if _, differs, err := s.TemplateDrift(ctx, "greeting", "Hi {{caller_name|there}} from chat", []string{"viewing"}); err != nil || differs {
			t.Fatalf("the file catching up with the chat edit: differs %v, %v", differs, err)
		}
		// Another key is still the file's.
		if r, err := s.SyncConfigTemplate(ctx, "other", "x", nil, t0); err != nil || !r.Applied {
			t.Fatalf("another key: %+v %v", r, err)
		}
	})
}
