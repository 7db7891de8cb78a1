package bot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
	"ringback/store/storetest"
)

// overdueRefs is what /callbacks overdue lists.
func overdueRefs(t *testing.T, b *bot.Bot) []string {
	t.Helper()
	v, err := b.Queue(context.Background(), bot.QueueRequest{Actor: alice, Overdue: true})
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, it := range v.Items {
		refs = append(refs, it.Ref)
	}
	return refs
}

// An untriaged case is timed from its first ring: due at the untriaged
// claim_within, listed by /callbacks overdue and counted by the queue
// check once that has passed, and reminded in the channel then.
func TestUntriagedCaseIsDueAtClaimWithin(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		if c.Category != "" || c.DueAt == nil || !c.DueAt.Equal(c.CreatedAt.Add(config.DefaultUntriagedClaim)) {
			t.Fatalf("untriaged case due at %v, want %v", c.DueAt, c.CreatedAt.Add(config.DefaultUntriagedClaim))
		}
		f.clock.Advance(config.DefaultUntriagedClaim)
		if refs := overdueRefs(t, f.bot); len(refs) != 0 {
			t.Fatalf("overdue at its due time: %v", refs)
		}
		f.clock.Advance(time.Second)
		if refs := overdueRefs(t, f.bot); len(refs) != 1 || refs[0] != "#"+itoa(c.ID) {
			t.Fatalf("/callbacks overdue after the due time = %v", refs)
		}
		line, _ := f.bot.Config().LineByName("Lettings")
		h, err := f.bot.Handover(ctx, line, f.clock.Now())
		if err != nil || h.Overdue != 1 {
			t.Fatalf("queue check counts %d overdue (%v), want 1", h.Overdue, err)
		}
		// Claimed, it is due at the untriaged contact_within instead.
		got, err := f.bot.Claim(ctx, c.ID, alice)
		if err != nil {
			t.Fatal(err)
		}
		if !got.DueAt.Equal(c.CreatedAt.Add(config.DefaultUntriagedContact)) {
			t.Fatalf("claimed case due at %v, want %v", got.DueAt, c.CreatedAt.Add(config.DefaultUntriagedContact))
		}
		if refs := overdueRefs(t, f.bot); len(refs) != 0 {
			t.Fatalf("claimed case still overdue: %v", refs)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A category's claim_within drives the unclaimed reminder: the caller's
// "3" (compliance, 30 minutes to claim) moves it from 10 to 30 minutes.
func TestCategoryClaimWithinDrivesTheUnclaimedReminder(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM1", From: callerNum, To: lettingsNum, Body: "3"}); err != nil {
			t.Fatal(err)
		}
		got, _ := f.store.CaseByID(ctx, c.ID)
		if got.Category != "compliance" || !got.DueAt.Equal(c.CreatedAt.Add(30*time.Minute)) {
			t.Fatalf("compliance case due at %v", got.DueAt)
		}
		f.clock.Advance(30*time.Minute - time.Second)
		tick(t, f.bot)
		if r := reminders(t, f.store); len(r) != 0 {
			t.Fatalf("reminded before the claim was due: %+v", r)
		}
		f.clock.Advance(time.Second)
		tick(t, f.bot)
		if r := reminders(t, f.store); len(r) == 0 || !strings.Contains(r[0].Text.String(), "still unclaimed after 30 min") {
			t.Fatalf("reminders at 30 min = %+v", r)
		}
	})
}

// timedFixture is a fixture whose config edit is applied before any call.
func timedFixture(t *testing.T, s *store.Store, edit func(cfg *config.Config)) *fixture {
	t.Helper()
	return restarted(t, newFixture(t, s), edit)
}

// closedWeekendsAndMonday: Lettings open mon-fri 09:00-17:30, closed on
// Monday 2026-12-07 (a holiday).
func closedWeekendsAndMonday(t *testing.T) func(cfg *config.Config) {
	return func(cfg *config.Config) {
		l, _ := cfg.LineByName("Lettings")
		h, err := config.ParseHours(map[string]string{"mon-fri": "09:00-17:30"})
		if err != nil {
			t.Fatal(err)
		}
		l.Hours, l.ClosedDates = h, []string{"2026-12-07"}
	}
}

// A non-urgent call on Friday at 18:00 on a line closed at weekends and
// on Monday (a holiday) starts its clock at Tuesday's opening: due and
// first reminded at 09:10 on Tuesday, nothing before.
func TestAfterHoursCaseFirstRemindsAfterTheNextOpening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := timedFixture(t, s, closedWeekendsAndMonday(t))
		f.clock.Set(time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)) // Friday, London = UTC
		c := f.missed(t, "CA1", callerNum)
		opens := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
		if c.DueAt == nil || !c.DueAt.Equal(opens.Add(10*time.Minute)) {
			t.Fatalf("due at %v, want Tuesday 09:10", c.DueAt)
		}
		for _, at := range []time.Time{
			time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC),
			time.Date(2026, 12, 8, 9, 9, 59, 0, time.UTC),
		} {
			f.clock.Set(at)
			tick(t, f.bot)
			if r := reminders(t, f.store); len(r) != 0 {
				t.Fatalf("reminded at %s: %+v", at, r)
			}
		}
		if refs := overdueRefs(t, f.bot); len(refs) != 0 {
			t.Fatalf("overdue before it was due: %v", refs)
		}
		f.clock.Set(opens.Add(10 * time.Minute))
		tick(t, f.bot)
		if r := reminders(t, f.store); len(r) != 1 || !strings.Contains(r[0].Text.String(), "still unclaimed") {
			t.Fatalf("reminders at Tuesday 09:10 = %+v", r)
		}
		card, err := f.bot.Card(ctx, c.ID)
		if err != nil || card.Opens == nil || !card.Opens.Equal(opens) {
			t.Fatalf("card opens = %v (%v), want Tuesday 09:00", card.Opens, err)
		}
	})
}

// The same call made urgent (the caller replies 9) pages at once and its
// clock runs from the call: reminded at the urgent claim_within.
func TestAfterHoursUrgentCasePagesAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := timedFixture(t, s, func(cfg *config.Config) {
			closedWeekendsAndMonday(t)(cfg)
			l, _ := cfg.LineByName("Lettings")
			l.OnCall = "+447700900999"
		})
		call := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
		f.clock.Set(call)
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM9", From: callerNum, To: lettingsNum, Body: "9"}); err != nil {
			t.Fatal(err)
		}
		var pages []string
		if err := s.DB().Select(&pages, s.DB().Rebind(`SELECT body FROM messages WHERE kind = ?`), "page"); err != nil || len(pages) != 1 ||
			!strings.Contains(pages[0], "URGENT: #1, caller 07700 900123, Lettings line, Urgent safety") {
			t.Fatalf("on-call pages at once = %q (%v)", pages, err)
		}
		tick(t, f.bot)
		if d := dms(t, f.store); len(d) != 1 || !strings.Contains(d[0].Text.String(), "🚨") {
			t.Fatalf("managers' round-up = %+v", d)
		}
		got, _ := f.store.CaseByID(ctx, c.ID)
		if !got.Urgent || !got.DueAt.Equal(call.Add(2*time.Minute)) {
			t.Fatalf("urgent case: urgent %v due %v, want due 18:02 Friday", got.Urgent, got.DueAt)
		}
		f.clock.Set(call.Add(2 * time.Minute))
		tick(t, f.bot)
		if r := reminders(t, f.store); len(r) != 1 {
			t.Fatalf("urgent case reminders at 18:02 = %+v", r)
		}
	})
}

// Split shifts: a call in the lunch break is timed from the afternoon
// shift.
func TestSplitShiftStartsTheClockAfterLunch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := timedFixture(t, s, func(cfg *config.Config) {
			l, _ := cfg.LineByName("Lettings")
			l.Hours, _ = config.ParseHours(map[string]string{"mon-fri": "09:00-12:00, 13:00-17:30"})
		})
		f.clock.Set(time.Date(2026, 12, 8, 12, 10, 0, 0, time.UTC))
		c := f.missed(t, "CA1", callerNum)
		if want := time.Date(2026, 12, 8, 13, 10, 0, 0, time.UTC); !c.DueAt.Equal(want) {
			t.Fatalf("due at %v, want %v", c.DueAt, want)
		}
		f.clock.Set(time.Date(2026, 12, 8, 13, 9, 0, 0, time.UTC))
		tick(t, f.bot)
		if r := reminders(t, f.store); len(r) != 0 {
			t.Fatalf("reminded in the lunch break: %+v", r)
		}
		f.clock.Set(time.Date(2026, 12, 8, 13, 10, 0, 0, time.UTC))
		tick(t, f.bot)
		if r := reminders(t, f.store); len(r) != 1 {
			t.Fatalf("reminders at 13:10 = %+v", r)
		}
	})
}

// Across the autumn DST change the next opening is 09:00 on the wall
// clock: Saturday 20:00 BST -> Monday 09:00 GMT.
func TestAfterHoursClockAcrossDST(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := timedFixture(t, s, closedWeekendsAndMonday(t))
		f.clock.Set(time.Date(2026, 10, 24, 19, 0, 0, 0, time.UTC)) // Saturday 20:00 BST
		c := f.missed(t, "CA1", callerNum)
		if want := time.Date(2026, 10, 26, 9, 10, 0, 0, time.UTC); !c.DueAt.Equal(want) {
			t.Fatalf("due at %v, want %v (09:10 GMT)", c.DueAt.UTC(), want)
		}
	})
}

// Managers get one message per interval listing every case that needs
// them: a case that starts waiting after this interval's message waits for
// the next one.
func TestManagersGetOneRoundUpPerInterval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := timedFixture(t, s, func(cfg *config.Config) {
			cfg.Escalation = []config.EscalationStep{{After: 10 * time.Minute, When: "unclaimed", Notify: "managers", AckWithin: 15 * time.Minute}}
		})
		f.clock.Set(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC))
		a := f.missed(t, "CA1", "+447700900101")
		f.clock.Set(time.Date(2026, 11, 16, 10, 2, 0, 0, time.UTC))
		b := f.missed(t, "CA2", "+447700900102")
		for m := 10; m < 30; m++ {
			f.clock.Set(time.Date(2026, 11, 16, 10, m, 0, 0, time.UTC))
			tick(t, f.bot)
		}
		d := dms(t, f.store)
		if len(d) != 1 || !strings.Contains(d[0].Text.String(), "#"+itoa(a.ID)) || strings.Contains(d[0].Text.String(), "#"+itoa(b.ID)) {
			t.Fatalf("manager messages by 10:29 = %+v; want one, about #%d only", d, a.ID)
		}
		f.clock.Set(time.Date(2026, 11, 16, 10, 30, 0, 0, time.UTC))
		tick(t, f.bot)
		tick(t, f.bot)
		d = dms(t, f.store)
		if len(d) != 2 || !strings.Contains(d[1].Text.String(), "1 case needs a manager") || !strings.Contains(d[1].Text.String(), "#"+itoa(b.ID)) {
			t.Fatalf("manager messages at 10:30 = %+v", d)
		}
		f.clock.Set(time.Date(2026, 11, 16, 11, 0, 0, 0, time.UTC))
		tick(t, f.bot)
		if n := len(dms(t, f.store)); n != 2 {
			t.Fatalf("%d manager messages: a round-up with nothing new", n)
		}
	})
}

// Every escalation step of a round edits one thread entry in place.
func TestEscalationStepsEditOneThreadEntry(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.missed(t, "CA1", callerNum)
		f.clock.Advance(3 * time.Hour)
		tick(t, f.bot)
		r := reminders(t, f.store)
		if len(r) != 3 {
			t.Fatalf("%d reminder entries, want the three steps", len(r))
		}
		for _, e := range r {
			if e.Key != "escalation:"+itoa(c.ID)+":0" || !e.Edit {
				t.Fatalf("entry %+v is not the case's one escalation entry", e)
			}
		}
		card, _ := f.bot.Card(context.Background(), c.ID)
		if card.Escalation != "no contact with the caller yet, managers told at 13:00" {
			t.Fatalf("card's escalation line = %q", card.Escalation)
		}
	})
}

// A non-urgent case does not page the on-call phone unless the line says
// so: the step reminds the channel instead.
func TestNonUrgentCaseDoesNotPageOnCall(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CAm", From: callerNum, To: maintNum, Outcome: bot.CallMissed}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(40 * time.Minute)
		tick(t, f.bot)
		var pages []string
		if err := f.store.DB().Select(&pages, f.store.DB().Rebind(`SELECT body FROM messages WHERE kind = ?`), "page"); err != nil || len(pages) != 0 {
			t.Fatalf("pages for a non-urgent case = %q (%v)", pages, err)
		}
		if r := reminders(t, f.store); len(r) == 0 {
			t.Fatal("no channel reminder instead")
		}
	})
}
