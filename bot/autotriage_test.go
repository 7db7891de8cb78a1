package bot_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// onCallNum is the on-call phone of testdata's Maintenance line (maintNum).
const onCallNum = "+447700900999"

// textIn reports a missed call from caller to the Maintenance line, then
// the caller's text; it returns what the text did and the case after it.
func (f *fixture) textIn(t *testing.T, sid, caller, body string) (bot.SMSResult, store.Case) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA" + sid, From: caller, To: maintNum, Outcome: bot.CallMissed, Status: "no-answer"}); err != nil {
		t.Fatal(err)
	}
	res, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM" + sid, From: caller, To: maintNum, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.store.OpenCase(ctx, caller, maintNum)
	if err != nil {
		t.Fatal(err)
	}
	return res, c
}

// thread lists the timeline entries queued for case id, in order.
func thread(t *testing.T, s *store.Store, id int64) []bot.Entry {
	t.Helper()
	var payloads []string
	q := s.DB().Rebind("SELECT payload FROM outbox WHERE case_id = ? AND kind LIKE 'chat.thread%' ORDER BY id")
	if err := s.DB().Select(&payloads, q, id); err != nil {
		t.Fatal(err)
	}
	var out []bot.Entry
	for _, p := range payloads {
		var e bot.Entry
		if err := json.Unmarshal([]byte(p), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func entryWith(es []bot.Entry, words string) (bot.Entry, bool) {
	for _, e := range es {
		if strings.Contains(e.Text.String(), words) {
			return e, true
		}
	}
	return bot.Entry{}, false
}

// A caller's free text is auto-triaged: an urgent phrase takes the urgent
// path (urgent case, page, safety text) and the thread says why; a negated
// one does not; a topic sets the category only when there is none.
func TestFreeTextSMSIsAutoTriaged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()

		res, c := f.textIn(t, "1", callerNum, "Hi, there’s a STRONG smell of gas in the hallway")
		if res.Action != "urgent" || !c.Urgent || c.Category != "urgent" || c.CategorizedAt == nil {
			t.Fatalf("gas smell: action %q, case urgent=%v category=%q", res.Action, c.Urgent, c.Category)
		}
		e, ok := entryWith(thread(t, s, c.ID), "Auto-triaged Urgent safety: 'smell of gas' in a text")
		if !ok || e.Mention != "channel" || !strings.HasPrefix(e.Text.String(), "URGENT: ") {
			t.Fatalf("thread lacks the urgent auto-triage entry: %+v", thread(t, s, c.ID))
		}
		if _, err := f.worker.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		var pages, safety int
		for _, m := range f.twilio.Messages() {
			switch {
			case m.To == onCallNum && strings.Contains(m.Body, "URGENT"):
				pages++
			case m.To == callerNum && strings.Contains(m.Body, "999"):
				safety++
			}
		}
		if pages != 1 || safety != 1 {
			t.Fatalf("%d pages to on-call and %d safety texts, want 1 and 1: %+v", pages, safety, f.twilio.Messages())
		}

		other := "+447700900124"
		res, c = f.textIn(t, "2", other, "No smell of gas, just a dripping tap")
		if res.Action != "triaged" || c.Urgent || c.Category != "maintenance" {
			t.Fatalf("negated gas: action %q, urgent=%v category=%q", res.Action, c.Urgent, c.Category)
		}
		if _, ok := entryWith(thread(t, s, c.ID), "Auto-triaged Maintenance: 'dripping tap' in a text"); !ok {
			t.Fatalf("thread: %+v", thread(t, s, c.ID))
		}

		// The caller's digit is never overridden by a topic…
		third := "+447700900125"
		f.textIn(t, "3", third, "1")
		res, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM3b", From: third, To: maintNum, Body: "also the boiler is leaking"})
		if err != nil {
			t.Fatal(err)
		}
		c, _ = s.OpenCase(ctx, third, maintNum)
		if res.Action != "reply" || c.Category != "viewing" {
			t.Fatalf("a topic overrode the caller's digit: action %q category %q", res.Action, c.Category)
		}
		// …but a danger makes the case urgent whatever its category.
		res, err = f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM3c", From: third, To: maintNum, Body: "now water is pouring through the ceiling!"})
		if err != nil {
			t.Fatal(err)
		}
		c, _ = s.OpenCase(ctx, third, maintNum)
		if res.Action != "urgent" || !c.Urgent || c.Category != "urgent" {
			t.Fatalf("flooding after a digit: action %q urgent=%v category %q", res.Action, c.Urgent, c.Category)
		}

		res, c = f.textIn(t, "4", "+447700900126", "thanks, speak soon")
		if res.Action != "reply" || c.Category != "" || c.CategorizedAt != nil {
			t.Fatalf("small talk: action %q category %q", res.Action, c.Category)
		}
	})
}

// Staff set or correct a category with /callbacks category; a non-urgent
// one takes back an auto-triaged urgency, and the thread records who.
func TestStaffSetTheCategory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		ctx := context.Background()
		_, c := f.textIn(t, "1", callerNum, "there's smoke coming from the socket")
		if !c.Urgent {
			t.Fatal("smoke from a socket is not urgent")
		}
		ref := "#" + strconv.FormatInt(c.ID, 10)
		if r, err := f.bot.Command(ctx, bot.Invoker{Actor: visitor}, "category "+ref+" maintenance"); err != nil || !strings.Contains(r.Text.String(), "Only staff") {
			t.Fatalf("visitor: %v %v", r.Text, err)
		}
		if r, _ := f.bot.Command(ctx, bot.Invoker{Actor: alice}, "category "+ref+" plumbing"); !strings.Contains(r.Text.String(), `No category "plumbing"`) {
			t.Fatalf("unknown category: %v", r.Text)
		}
		if r, _ := f.bot.Command(ctx, bot.Invoker{Actor: alice}, "category"); !strings.Contains(r.Text.String(), "Usage") {
			t.Fatalf("no arguments: %v", r.Text)
		}
		r, err := f.bot.Command(ctx, bot.Invoker{Actor: alice}, "category "+ref+" Maintenance")
		if err != nil || r.Text.String() != "Case "+ref+" is now Maintenance." {
			t.Fatalf("staff override: %v %v", r.Text, err)
		}
		c, _ = s.CaseByID(ctx, c.ID)
		if c.Urgent || c.Category != "maintenance" {
			t.Fatalf("after override: urgent=%v category=%q", c.Urgent, c.Category)
		}
		e, ok := entryWith(thread(t, s, c.ID), "set the category to Maintenance (was Urgent safety)")
		if !ok || e.Actor != alice.ID {
			t.Fatalf("thread: %+v", thread(t, s, c.ID))
		}
		// A later topic does not undo staff's choice.
		if res, _ := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM1b", From: callerNum, To: maintNum, Body: "can I book a viewing too"}); res.Action != "reply" {
			t.Fatalf("a topic after staff's choice: %q", res.Action)
		}
		if c, _ = s.CaseByID(ctx, c.ID); c.Category != "maintenance" {
			t.Fatalf("category %q after staff chose maintenance", c.Category)
		}
	})
}
