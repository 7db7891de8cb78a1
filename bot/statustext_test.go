package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ringback/config"
	"ringback/store"
	"ringback/store/storetest"
)

// statusClaimed is the manager-approved text a claim sends when the line
// turns it on.
const statusClaimed = "{{agent}} from {{business}} has your request and will call you by {{due}}."

// withClaimedText is a fixture whose Lettings line sends statusClaimed when
// a case is claimed.
func withClaimedText(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	f := timedFixture(t, s, func(cfg *config.Config) {
		l, _ := cfg.LineByName("Lettings")
		l.StatusTexts.Claimed = "status_claimed"
	})
	if _, err := s.SyncTemplate(context.Background(), "status_claimed", statusClaimed, nil, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return f
}

// bodies are the texts the Twilio stand-in took, in order.
func (f *fixture) bodies() []string {
	var out []string
	for _, m := range f.twilio.Messages() {
		out = append(out, m.Body)
	}
	return out
}

// A claim tells the caller who has their request and by when they will be
// called: once per person who takes it, never as a reply staff can pick.
func TestClaimTellsTheCallerWhoHasTheirRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := withClaimedText(t, s)
		c := f.missed(t, "CA1", callerNum) // Monday 10:00: untriaged, to be contacted by 10:30
		f.worker.RunDue(ctx)
		f.clock.Advance(5 * time.Minute)
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		got := f.bodies()
		want := "Alice from Northside Lettings has your request and will call you by 10:30."
		if len(got) != 2 || got[1] != want {
			t.Fatalf("texts = %q, want the text-back then %q", got, want)
		}

		// Released and taken again by the same person: no second text.
		if _, err := f.bot.Release(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		if got := f.bodies(); len(got) != 2 {
			t.Fatalf("the same claim again texted the caller: %q", got)
		}

		// Somebody else takes it, after the deadline: the caller hears who,
		// and no time gone by.
		f.clock.Advance(40 * time.Minute) // 10:45
		f.bot.Release(ctx, c.ID, alice)
		if _, err := f.bot.Claim(ctx, c.ID, bob); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		want = "Bob from Northside Lettings has your request and will call you by 11:00."
		if got := f.bodies(); len(got) != 3 || got[2] != want {
			t.Fatalf("texts = %q, want %q last", got, want)
		}

		// Automatic: not offered to staff as a reply, nor sendable as one.
		choices, err := f.bot.ReplyChoices(ctx, c.ID, bob)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range choices {
			if ch.Key == "status_claimed" {
				t.Fatal("the status text is offered as a reply")
			}
		}
		if _, err := f.bot.SendReply(ctx, c.ID, bob, "status_claimed"); err == nil {
			t.Fatal("the status text was sent as a reply")
		}
		// It is no human contact.
		if got, _ := s.CaseByID(ctx, c.ID); got.FirstContactAt != nil {
			t.Fatalf("a status text counted as contact: %+v", got)
		}
	})
}

// Off by default: a line that names no status text sends none.
func TestNoStatusTextUnlessTheLineHasOne(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.worker.RunDue(ctx)
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		if got := f.bodies(); len(got) != 1 {
			t.Fatalf("texts = %q, want the text-back only", got)
		}
	})
}

// A status text waits for the caller's window (08:00–21:00 their time)
// unless the case is urgent, and never reaches a number that opted out,
// whether before the claim or while the text waited.
func TestStatusTextRespectsQuietHoursAndOptOuts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := withClaimedText(t, s)
		f.clock.Set(time.Date(2026, 11, 16, 21, 30, 0, 0, time.UTC)) // London = UTC
		late := f.missed(t, "CA1", callerNum)
		urgent := f.missed(t, "CA2", "+447700900124")
		if _, err := f.bot.SetCategory(ctx, urgent.ID, alice, "urgent"); err != nil {
			t.Fatal(err)
		}
		optedOut := f.missed(t, "CA3", "+447700900125")
		f.worker.RunDue(ctx) // the text-backs: immediate replies
		if _, err := s.OptOut(ctx, "+447700900125", "keyword", f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		for _, c := range []store.Case{late, urgent, optedOut} {
			if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
				t.Fatal(err)
			}
		}
		statusTo := func() map[string]int {
			to := map[string]int{}
			for _, m := range f.twilio.Messages() {
				if strings.HasPrefix(m.Body, "Alice from") {
					to[m.To]++
				}
			}
			return to
		}
		f.worker.RunDue(ctx)
		if to := statusTo(); len(to) != 1 || to["+447700900124"] != 1 {
			t.Fatalf("status texts at 21:30 = %v, want the urgent case's only", to)
		}
		f.clock.Set(time.Date(2026, 11, 17, 7, 59, 0, 0, time.UTC))
		f.worker.RunDue(ctx)
		if to := statusTo(); len(to) != 1 {
			t.Fatalf("a status text went in the caller's quiet hours: %v", to)
		}
		f.clock.Set(time.Date(2026, 11, 17, 8, 0, 0, 0, time.UTC))
		f.worker.RunDue(ctx)
		if to := statusTo(); to[callerNum] != 1 || to["+447700900124"] != 1 || to["+447700900125"] != 0 {
			t.Fatalf("status texts by number = %v; want one each to the two callers that may be texted", to)
		}
	})
}

// A STOP that arrives while the status text waits for the morning cancels it.
func TestStatusTextHeldOvernightIsNotSentAfterAStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := withClaimedText(t, s)
		f.clock.Set(time.Date(2026, 11, 16, 22, 0, 0, 0, time.UTC))
		c := f.missed(t, "CA1", callerNum)
		f.worker.RunDue(ctx)
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		if _, err := s.OptOut(ctx, callerNum, "keyword", f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC))
		f.worker.RunDue(ctx)
		if got := f.bodies(); len(got) != 1 {
			t.Fatalf("texts = %q, want the text-back only", got)
		}
	})
}

// A caller who picked a callback slot is promised that slot when somebody
// claims the case, not the category's deadline.
func TestClaimedStatusTextPromisesThePickedSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, func(cfg *config.Config) {
			l, _ := cfg.LineByName("Lettings")
			l.StatusTexts.Claimed = "status_claimed"
		})
		if _, err := s.SyncTemplate(ctx, "status_claimed", statusClaimed, nil, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		c, tok := f.linkOf(t, "CA1", callerNum)
		page, err := f.bot.CallbackPage(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		slot := time.Date(2026, 11, 17, 14, 30, 0, 0, page.Location) // Tuesday
		if _, err := f.bot.PickCallback(ctx, tok, slot, "maintenance", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		if n := textsTo(f, callerNum, "Alice from Northside Lettings has your request and will call you by Tue 14:30."); n != 1 {
			t.Fatalf("%d status texts promising the slot; texts: %q", n, f.bodies())
		}
	})
}

// statusSoon is the text that tells a caller their picked callback is
// about to happen.
const statusSoon = "{{business}} here: we'll call you at {{due}} as you asked."

// soonFixture is the picker fixture whose Lettings line sends statusSoon
// before a picked slot.
func soonFixture(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	f := pickerFixture(t, s, func(cfg *config.Config) {
		l, _ := cfg.LineByName("Lettings")
		l.StatusTexts.CallbackSoon = "status_soon"
	})
	if _, err := s.SyncTemplate(context.Background(), "status_soon", statusSoon, nil, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return f
}

// A caller who picked a slot hears, when the owner is reminded, that the
// call is coming at that time: once, for the slot picked last, to the
// minute; never to a number that opted out meanwhile, and not at all once
// the slot has passed (a reminder run late).
func TestCallbackSoonStatusText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := soonFixture(t, s)
		// London is on UTC in November; Monday 16th from 10:00.
		first, moved := time.Date(2026, 11, 16, 14, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 14, 30, 0, 0, time.UTC)
		kept, tok := f.linkOf(t, "CA1", callerNum)
		f.pick(t, tok, first)
		f.pick(t, tok, moved)
		_, tokOut := f.linkOf(t, "CA2", "+447700900125")
		f.pick(t, tokOut, moved)
		_, tokLate := f.linkOf(t, "CA3", "+447700900126")
		f.pick(t, tokLate, time.Date(2026, 11, 16, 15, 0, 0, 0, time.UTC))
		if _, err := s.OptOut(ctx, "+447700900125", "keyword", f.clock.Now()); err != nil {
			t.Fatal(err)
		}

		f.runAt(t, first.Add(-10*time.Minute)) // the first slot's reminder: moved away
		if n := textsTo(f, callerNum, "as you asked"); n != 0 {
			t.Fatalf("%d texts for a slot the caller moved away from", n)
		}
		f.runAt(t, moved.Add(-10*time.Minute))
		f.runAt(t, moved.Add(-5*time.Minute))
		if n := textsTo(f, callerNum, "Northside Lettings here: we'll call you at 14:30 as you asked."); n != 1 {
			t.Fatalf("%d texts saying the call is coming at 14:30; texts: %q", n, f.bodies())
		}
		if n := textsTo(f, "+447700900125", "as you asked"); n != 0 {
			t.Fatalf("an opted-out caller got %d status texts", n)
		}
		// The third caller's reminder runs only after their 15:00 slot (the
		// workers were down): the team is reminded, the caller not texted.
		f.runAt(t, time.Date(2026, 11, 16, 15, 5, 0, 0, time.UTC))
		if n := textsTo(f, "+447700900126", "as you asked"); n != 0 {
			t.Fatalf("%d texts promising a call at a time gone by", n)
		}
		// Automatic: not a reply staff can pick; no human contact.
		if _, err := f.bot.SendReply(ctx, kept.ID, alice, "status_soon"); err == nil {
			t.Fatal("the status text was sent as a reply")
		}
		if got, _ := s.CaseByID(ctx, kept.ID); got.FirstContactAt != nil {
			t.Fatalf("a status text counted as contact: %+v", got)
		}
	})
}
