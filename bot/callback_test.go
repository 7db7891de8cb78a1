package bot_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/bot/chat"
	"ringback/config"
	"ringback/sms"
	"ringback/sms/twiliostandin"
	"ringback/store"
	"ringback/store/storetest"
)

const testPublicURL = "https://rb.example"

var linkRE = regexp.MustCompile(`https://rb\.example/c/([A-Za-z0-9_-]+)`)

// pickerFixture is the fixture with PUBLIC_URL set and a text-back that
// carries {{callback_link}}; edit changes the config first.
func pickerFixture(t *testing.T, s *store.Store, edit func(*config.Config)) *fixture {
	t.Helper()
	return pickerFixtureAt(t, s, testPublicURL, edit)
}

// pickerFixtureAt is pickerFixture with PUBLIC_URL publicURL ("" unset).
func pickerFixtureAt(t *testing.T, s *store.Store, publicURL string, edit func(*config.Config)) *fixture {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Templates {
		if cfg.Templates[i].Key == "textback_day" {
			cfg.Templates[i].Text = "Hi, it's {{business}}. Sorry we missed your call. Pick a time for us to call you back: {{callback_link}}"
		}
	}
	if edit != nil {
		edit(cfg)
	}
	tw := twiliostandin.NewServer(testAccount, testToken)
	t.Cleanup(tw.Close)
	clock := bot.NewManualClock(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)) // Monday; London is on UTC
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: quiet, PublicURL: publicURL,
		Texter: sms.NewTexter(sms.New(testAccount, testToken, tw.URL)), Chats: []string{"slack"}})
	if err := b.SyncTemplates(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := bot.NewWorker(s, clock, "w", quiet)
	b.Register(w)
	return &fixture{bot: b, store: s, clock: clock, worker: w, twilio: tw}
}

// linkOf opens a case for caller and returns it with the token its
// text-back carried, as the caller's phone got it.
func (f *fixture) linkOf(t *testing.T, sid, caller string) (store.Case, string) {
	t.Helper()
	c := f.missed(t, sid, caller)
	if _, err := f.worker.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.twilio.Messages() {
		if m.To == caller {
			if sub := linkRE.FindStringSubmatch(m.Body); sub != nil {
				return c, sub[1]
			}
			t.Fatalf("text-back without a link: %q", m.Body)
		}
	}
	t.Fatalf("no text-back to %s", caller)
	return c, ""
}

// Without PUBLIC_URL there is no link to give: the text-back still goes
// out, without the sentence that would carry the link, and no link is
// made.
func TestTextBackWithoutPublicURLGoesWithoutTheLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixtureAt(t, s, "", nil)
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, m := range f.twilio.Messages() {
			if m.To == callerNum {
				bodies = append(bodies, m.Body)
			}
		}
		const want = "Hi, it's Northside Lettings. Sorry we missed your call."
		if len(bodies) != 1 || bodies[0] != want {
			t.Fatalf("texts to the caller: %q, want one: %q", bodies, want)
		}
		got, err := s.CaseByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(got.TextbackStatus, "not sent") {
			t.Errorf("text-back status %q", got.TextbackStatus)
		}
	})
}

// pick is the caller picking slot through token tok, no category, no note.
func (f *fixture) pick(t *testing.T, tok string, slot time.Time) {
	t.Helper()
	if _, err := f.bot.PickCallback(context.Background(), tok, slot, "", ""); err != nil {
		t.Fatal(err)
	}
}

// runAt sets the clock to at and runs the outbox rows due then.
func (f *fixture) runAt(t *testing.T, at time.Time) {
	t.Helper()
	f.clock.Set(at)
	if _, err := f.worker.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func textsTo(f *fixture, caller, containing string) int {
	n := 0
	for _, m := range f.twilio.Messages() {
		if m.To == caller && strings.Contains(m.Body, containing) {
			n++
		}
	}
	return n
}

// The text-back carries a link of 128 random bits; the store keeps only
// its hash; each case has its own; a link opens its own case and no
// other, and a guessed or altered one opens nothing.
func TestCallbackLinkIsUnguessableAndOneCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, nil)
		a, tokA := f.linkOf(t, "CA1", callerNum)
		b, tokB := f.linkOf(t, "CA2", "+447700900456")
		if len(tokA) != 22 || tokA == tokB {
			t.Fatalf("tokens %q and %q: want two different 22-character tokens", tokA, tokB)
		}
		// The text as stored is the text as sent: a re-run of its outbox
		// row sends the same link.
		ms, _ := s.MessagesForCase(ctx, a.ID)
		if len(ms) != 1 || !strings.Contains(ms[0].Body, "/c/"+tokA) {
			t.Fatalf("stored text-back %+v", ms)
		}
		// The text-back's thread entry shows staff the text without the
		// caller's token: no row bound for the chat holds it.
		for _, state := range []string{store.OutboxPending, store.OutboxDone, store.OutboxDead} {
			rows, err := s.OutboxByState(ctx, state, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if strings.Contains(r.Payload, tokA) || strings.Contains(r.Payload, tokB) {
					t.Errorf("outbox row %s holds a caller's token: %s", r.Kind, r.Payload)
				}
			}
		}
		if _, err := s.CallbackLinkByHash(ctx, tokA); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the token itself finds a link (%v): the store keeps the token, not its hash", err)
		}
		if l, err := s.CallbackLinkByHash(ctx, bot.CallbackTokenHash(tokA)); err != nil || l.CaseID != a.ID {
			t.Fatalf("link of A = %+v, %v", l, err)
		}

		page, err := f.bot.CallbackPage(ctx, tokA)
		if err != nil || page.Business != "Northside Lettings" || len(page.Slots) == 0 {
			t.Fatalf("page of A = %+v, %v", page, err)
		}
		if _, err := f.bot.PickCallback(ctx, tokA, page.Slots[0], "maintenance", "tap"); err != nil {
			t.Fatal(err)
		}
		// A's pick is on A only.
		if _, err := s.CallbackRequestFor(ctx, a.ID); err != nil {
			t.Errorf("A has no request: %v", err)
		}
		if _, err := s.CallbackRequestFor(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A's link wrote B's request: %v", err)
		}
		pageB, err := f.bot.CallbackPage(ctx, tokB)
		if err != nil || pageB.Current != nil {
			t.Errorf("B's page shows a pick: %+v, %v", pageB.Current, err)
		}

		flip := []byte(tokA)
		flip[5] ^= 1 // still base64: another well-formed token
		for _, tok := range []string{string(flip), tokA[:21], tokA + "A", "AAAAAAAAAAAAAAAAAAAAAA", "", "../../etc"} {
			if _, err := f.bot.CallbackPage(ctx, tok); !errors.Is(err, bot.ErrCallbackUnknown) {
				t.Errorf("page of %q: %v, want ErrCallbackUnknown", tok, err)
			}
			if _, err := f.bot.PickCallback(ctx, tok, page.Slots[0], "", ""); !errors.Is(err, bot.ErrCallbackUnknown) {
				t.Errorf("pick through %q: %v, want ErrCallbackUnknown", tok, err)
			}
		}
	})
}

// A pick lands on the case: due time, category, the card's line, the
// thread, one confirmation text; the same pick again changes nothing;
// another slot replaces it and texts once more.
func TestPickCallbackLandsOnTheCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, nil)
		c, tok := f.linkOf(t, "CA1", callerNum)
		page, err := f.bot.CallbackPage(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		london := page.Location
		// Tuesday 14:30, London.
		slot := time.Date(2026, 11, 17, 14, 30, 0, 0, london)
		if !slices.ContainsFunc(page.Slots, slot.Equal) {
			t.Fatalf("Tue 14:30 not offered: %v", page.Slots)
		}
		for _, cat := range page.Categories {
			if cat.Key == "urgent" {
				t.Errorf("the urgent category is offered for a booked callback")
			}
		}
		note := "leaking tap under sink <!channel>\n\x00"
		if _, err := f.bot.PickCallback(ctx, tok, slot, "maintenance", note); err != nil {
			t.Fatal(err)
		}
		got, _ := s.CaseByID(ctx, c.ID)
		if got.DueAt == nil || !got.DueAt.Equal(slot) || got.Category != "maintenance" {
			t.Errorf("case after the pick: due %v, category %q", got.DueAt, got.Category)
		}
		card, err := f.bot.Card(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if card.Callback == nil {
			t.Fatal("the card shows no callback")
		}
		if w := card.Callback.Words().String(); w != "📅 Callback requested Tue 14:30 — Maintenance: 'leaking tap under sink <!channel>'" {
			t.Errorf("card line %q", w)
		}
		if countEvents(t, s, c.ID, "callback_requested") != 1 {
			t.Error("no callback_requested event")
		}
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if n := textsTo(f, callerNum, "we'll call you back on Tue 17 Nov at 14:30"); n != 1 {
			t.Errorf("%d confirmations, want 1", n)
		}
		// The same form sent again (a double tap): nothing new.
		if _, err := f.bot.PickCallback(ctx, tok, slot, "maintenance", note); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		if n := textsTo(f, callerNum, "we'll call you back"); n != 1 || countEvents(t, s, c.ID, "callback_requested") != 1 {
			t.Errorf("a repeated pick: %d confirmations, want 1", n)
		}
		// Picking again moves the slot.
		later := time.Date(2026, 11, 18, 9, 0, 0, 0, london)
		if _, err := f.bot.PickCallback(ctx, tok, later, "maintenance", "tap"); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		got, _ = s.CaseByID(ctx, c.ID)
		card, _ = f.bot.Card(ctx, c.ID)
		if !got.DueAt.Equal(later) || card.Callback == nil || !strings.HasPrefix(card.Callback.Words().String(), "📅 Callback requested Wed 09:00") {
			t.Errorf("after picking again: due %v, card %+v", got.DueAt, card.Callback)
		}
		if n := textsTo(f, callerNum, "we'll call you back on Wed 18 Nov at 09:00"); n != 1 {
			t.Errorf("%d confirmations of the new slot, want 1", n)
		}
		// Claiming does not take the caller's time away; closing does.
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.CaseByID(ctx, c.ID); got.DueAt == nil || !got.DueAt.Equal(later) {
			t.Errorf("claimed: due %v, want the slot %v", got.DueAt, later)
		}
		if _, err := f.bot.Close(ctx, c.ID, alice, "reached", "called back"); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.CaseByID(ctx, c.ID); got.CallbackAt != nil {
			t.Errorf("closed case keeps its slot %v", got.CallbackAt)
		}
	})
}

// The reminder comes a few minutes before the slot, once, for the slot
// the caller picked last: the first slot's reminder, moved, stays silent.
func TestCallbackReminderBeforeTheSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := pickerFixture(t, s, nil)
		c, tok := f.linkOf(t, "CA1", callerNum)
		london := time.UTC // November
		first := time.Date(2026, 11, 16, 15, 0, 0, 0, london)
		second := time.Date(2026, 11, 16, 16, 0, 0, 0, london)
		f.pick(t, tok, first)
		f.pick(t, tok, second)
		f.runAt(t, first.Add(-11*time.Minute))
		f.runAt(t, first.Add(-9*time.Minute)) // the moved slot's reminder falls due
		if n := countEvents(t, s, c.ID, "callback_reminded"); n != 0 {
			t.Fatalf("%d reminders for a slot the caller moved away from", n)
		}
		f.runAt(t, second.Add(-11*time.Minute))
		if n := countEvents(t, s, c.ID, "callback_reminded"); n != 0 {
			t.Fatalf("reminded 11 minutes ahead (remind_before is 10m)")
		}
		f.runAt(t, second.Add(-10*time.Minute))
		f.runAt(t, second.Add(-5*time.Minute))
		if n := countEvents(t, s, c.ID, "callback_reminded"); n != 1 {
			t.Fatalf("%d reminders, want 1", n)
		}
	})
}

// Slots outside the offer, other lines' categories, expired links and
// closed cases are refused; a full slot is offered to nobody else.
func TestPickCallbackRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, func(cfg *config.Config) { cfg.Lines[0].Callback.Capacity = 1 })
		c, tok := f.linkOf(t, "CA1", callerNum)
		_, tok2 := f.linkOf(t, "CA2", "+447700900456")
		slot := time.Date(2026, 11, 17, 9, 30, 0, 0, time.UTC)
		for _, tc := range []struct {
			slot     time.Time
			category string
			want     error
		}{
			{time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC), "", bot.ErrCallbackSlot},  // Sunday: closed
			{time.Date(2026, 11, 17, 9, 10, 0, 0, time.UTC), "", bot.ErrCallbackSlot},  // not a slot's start
			{time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC), "", bot.ErrCallbackSlot},  // now: too soon
			{time.Date(2026, 11, 17, 17, 30, 0, 0, time.UTC), "", bot.ErrCallbackSlot}, // closing time
			{slot, "urgent", bot.ErrCallbackCategory},
			{slot, "nonsense", bot.ErrCallbackCategory},
		} {
			if _, err := f.bot.PickCallback(ctx, tok, tc.slot, tc.category, ""); !errors.Is(err, tc.want) {
				t.Errorf("pick %s %q: %v, want %v", tc.slot, tc.category, err, tc.want)
			}
		}
		if _, err := f.bot.PickCallback(ctx, tok, slot, "", ""); err != nil {
			t.Fatal(err)
		}
		page2, _ := f.bot.CallbackPage(ctx, tok2)
		if slices.ContainsFunc(page2.Slots, slot.Equal) {
			t.Error("a full slot is offered to another caller")
		}
		if _, err := f.bot.PickCallback(ctx, tok2, slot, "", ""); !errors.Is(err, bot.ErrCallbackSlot) {
			t.Errorf("second caller into a full slot: %v", err)
		}
		// Closed: the link is used up.
		if _, err := f.bot.Close(ctx, c.ID, alice, "reached", "called back"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.CallbackPage(ctx, tok); !errors.Is(err, bot.ErrCallbackUsed) {
			t.Errorf("page of a closed case: %v, want ErrCallbackUsed", err)
		}
		// The closed case's place is free again.
		if _, err := f.bot.PickCallback(ctx, tok2, slot, "", ""); err != nil {
			t.Errorf("into the place a closed case left: %v", err)
		}
		// Three days on, the link has expired.
		f.clock.Advance(72 * time.Hour)
		if _, err := f.bot.CallbackPage(ctx, tok2); !errors.Is(err, bot.ErrCallbackExpired) {
			t.Errorf("page after 72h: %v, want ErrCallbackExpired", err)
		}
		if _, err := f.bot.PickCallback(ctx, tok2, slot, "", ""); !errors.Is(err, bot.ErrCallbackExpired) {
			t.Errorf("pick after 72h: %v, want ErrCallbackExpired", err)
		}
	})
}

// A link changes its pick a few times, then says it is used up.
func TestCallbackLinkPicksAreBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, nil)
		_, tok := f.linkOf(t, "CA1", callerNum)
		page, err := f.bot.CallbackPage(ctx, tok)
		if err != nil || len(page.Slots) <= bot.CallbackMaxPicks {
			t.Fatalf("page: %d slots, %v", len(page.Slots), err)
		}
		for i := range bot.CallbackMaxPicks {
			if _, err := f.bot.PickCallback(ctx, tok, page.Slots[i], "", ""); err != nil {
				t.Fatalf("pick %d: %v", i+1, err)
			}
		}
		if _, err := f.bot.PickCallback(ctx, tok, page.Slots[bot.CallbackMaxPicks], "", ""); !errors.Is(err, bot.ErrCallbackUsed) {
			t.Errorf("pick %d: %v, want ErrCallbackUsed", bot.CallbackMaxPicks+1, err)
		}
		if _, err := f.bot.CallbackPage(ctx, tok); !errors.Is(err, bot.ErrCallbackUsed) {
			t.Errorf("page after the last pick: %v, want ErrCallbackUsed", err)
		}
	})
}

// Staff see whether the caller used the link: the card says a link was
// texted and not used until a pick replaces that with the request; and
// /callbacks lists a scheduled callback at its slot, scheduled ones in
// slot order, among the others by age.
func TestCallbackLinkOnTheCardAndTheQueueBySlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, nil)
		notes := func(id int64) string {
			t.Helper()
			k, err := f.bot.Card(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range k.Notes() {
				out = append(out, n.String())
			}
			return strings.Join(out, " | ")
		}
		first, tok1 := f.linkOf(t, "CA1", callerNum) // Monday 10:00
		f.clock.Advance(5 * time.Minute)
		second, tok2 := f.linkOf(t, "CA2", "+447700900125")
		f.clock.Advance(5 * time.Minute)
		third := f.missed(t, "CA3", "+447700900126")

		if n := notes(first.ID); !strings.Contains(n, "📅 Callback link texted, no time picked yet") {
			t.Errorf("card notes before a pick: %s", n)
		}
		// The older case's caller picks the later slot.
		if _, err := f.bot.PickCallback(ctx, tok1, time.Date(2026, 11, 17, 14, 30, 0, 0, time.UTC), "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bot.PickCallback(ctx, tok2, time.Date(2026, 11, 17, 9, 30, 0, 0, time.UTC), "", ""); err != nil {
			t.Fatal(err)
		}
		if n := notes(first.ID); strings.Contains(n, "no time picked") || !strings.Contains(n, "📅 Callback requested Tue 14:30") {
			t.Errorf("card notes after the pick: %s", n)
		}
		v, err := f.bot.Queue(ctx, bot.QueueRequest{Platform: "slack", Actor: alice})
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, it := range v.Items {
			order = append(order, it.CaseID)
		}
		if want := []int64{third.ID, second.ID, first.ID}; !slices.Equal(order, want) {
			t.Fatalf("queue order %v, want %v (unscheduled by age, then Tue 09:30, then Tue 14:30)", order, want)
		}
		if l := v.Items[2].Listing(chat.Words(v.Items[2].Ref)).String(); !strings.Contains(l, "📅 Tue 14:30") {
			t.Errorf("listing without its slot: %s", l)
		}
	})
}

// The digest's picker figures: callers who used the link they were texted,
// and scheduled callbacks kept on time (a callback logged from 10 min
// before to 15 min after the slot), counting only slots whose window has
// ended and leaving out a case resolved before its slot.
func TestCallbackPickerKPIs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, nil)
		at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) } // London = UTC
		kept, tokKept := f.linkOf(t, "CA1", callerNum)                                            // Monday 16th, 10:00
		late, tokLate := f.linkOf(t, "CA2", "+447700900125")
		f.linkOf(t, "CA3", "+447700900126") // texted a link, never used it
		f.linkOf(t, "CA6", "+447700900129") // the same
		_, tokTomorrow := f.linkOf(t, "CA4", "+447700900127")
		resolved, tokResolved := f.linkOf(t, "CA5", "+447700900128")
		f.pick(t, tokKept, at(16, 14, 0))
		f.pick(t, tokLate, at(16, 15, 0))
		f.pick(t, tokTomorrow, at(17, 10, 0))
		f.pick(t, tokResolved, at(16, 16, 0))
		f.clock.Set(at(16, 11, 0))
		if _, err := f.bot.Close(ctx, resolved.ID, alice, "resolved", "sorted by text"); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(at(16, 14, 5))
		if _, err := f.bot.LogCallback(ctx, kept.ID, alice, "reached", ""); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(at(16, 16, 0)) // an hour after the 15:00 slot
		if _, err := f.bot.LogCallback(ctx, late.ID, alice, "no_answer", ""); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(at(17, 9, 0))
		k, err := f.bot.KPIs(ctx, bot.Period{From: at(16, 0, 0), To: at(17, 9, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Total.PickerUsed; got == nil || *got != (bot.Ratio{Num: 4, Den: 6}) {
			t.Errorf("picker used = %+v, want 4 of 6 callers texted a link", got)
		}
		if got := k.Total.CallbacksKept; got == nil || *got != (bot.Ratio{Num: 1, Den: 2}) {
			t.Errorf("callbacks kept on time = %+v, want 1 of 2 (the 14:00 one kept, the 15:00 one late)", got)
		}
		if got := k.Lines[0].CallbacksKept; k.Lines[0].Name != "Lettings" || got == nil || *got != (bot.Ratio{Num: 1, Den: 2}) {
			t.Errorf("Lettings: %s kept %+v", k.Lines[0].Name, got)
		}
		stats, err := f.bot.StatsText(ctx, "this")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stats.String(), "• Scheduled callbacks kept on time: ") {
			t.Errorf("/callbacks stats:\n%s", stats)
		}
	})
}

// A caller who picked tomorrow 14:30 asked not to be called before: the
// no-contact steps wait for the slot (their clock runs from it), and a
// call at the slot meets the SLA.
func TestPickedSlotHoldsNoContactEscalationAndMeetsTheSLA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := pickerFixture(t, s, nil)
		c, tok := f.linkOf(t, "CA1", callerNum) // Monday 10:00; Lettings: no_contact 30m → owner, 2h → managers
		if _, err := f.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		slot := time.Date(2026, 11, 17, 14, 30, 0, 0, time.UTC)
		if _, err := f.bot.PickCallback(ctx, tok, slot, "", ""); err != nil {
			t.Fatal(err)
		}
		noContactSteps := func() int {
			t.Helper()
			events, err := s.EventsForCase(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range events {
				if e.Kind == "escalated" && strings.Contains(e.Data, `"when":"no_contact"`) {
					n++
				}
			}
			return n
		}
		for _, at := range []time.Time{time.Date(2026, 11, 16, 10, 31, 0, 0, time.UTC), time.Date(2026, 11, 16, 12, 5, 0, 0, time.UTC), slot.Add(29 * time.Minute)} {
			f.clock.Set(at)
			tick(t, f.bot)
			if n := noContactSteps(); n != 0 {
				t.Fatalf("at %s, before the caller's slot is 30 min gone: %d no-contact escalations", at.Format("Mon 15:04"), n)
			}
		}
		f.clock.Set(slot.Add(31 * time.Minute))
		tick(t, f.bot)
		if n := noContactSteps(); n != 1 {
			t.Fatalf("30 min after the slot with no contact: %d no-contact escalations, want the owner's", n)
		}

		// Called at the slot: the SLA is met although it is a day later.
		d, tokD := f.linkOf(t, "CA2", "+447700900125") // Tuesday 15:01
		f.clock.Advance(time.Minute)
		if _, err := f.bot.PickCallback(ctx, tokD, time.Date(2026, 11, 18, 11, 0, 0, 0, time.UTC), "", ""); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 11, 18, 11, 5, 0, 0, time.UTC))
		if _, err := f.bot.LogCallback(ctx, d.ID, alice, "reached", ""); err != nil {
			t.Fatal(err)
		}
		k, err := f.bot.KPIs(ctx, bot.Period{From: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Total.SLAMet; got == nil || *got != (bot.Ratio{Num: 1, Den: 2}) {
			t.Errorf("SLA met = %+v, want 1 of 2 (the call at the picked slot met it; the other case had no contact)", got)
		}
	})
}
