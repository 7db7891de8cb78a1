package store_test

import (
	"context"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

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
