package bot_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/sms"
	"ringback/sms/twiliostandin"
	"ringback/store"
	"ringback/store/storetest"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	lettingsNum = "+441632960001"
	callerNum   = "+447700900123"
)

var (
	alice   = bot.Actor{ID: "U0ALICE", Name: "Alice Jones", Staff: true}
	bob     = bot.Actor{ID: "U0BOB", Name: "Bob", Staff: true}
	manager = bot.Actor{ID: "U0MANAGER1", Name: "Mia Manager"}
	visitor = bot.Actor{ID: "U0VISITOR", Name: "Vic"}
)

type fixture struct {
	bot    *bot.Bot
	store  *store.Store
	clock  *bot.ManualClock
	worker *bot.Worker
	twilio *twiliostandin.Server
}

func newFixture(t *testing.T, s *store.Store) *fixture { return newFixtureOn(t, s, "slack") }

// newFixtureOn is newFixture with cards on the chat platforms named.
func newFixtureOn(t *testing.T, s *store.Store, chats ...string) *fixture {
	t.Helper()
	return newFixtureWith(t, s, filepath.Join("..", "testdata", "ringback.yaml"), 0, chats...)
}

// newFixtureWith builds the fixture on the config at path, with a Twilio
// client that gives up after timeout (0: its default).
func newFixtureWith(t *testing.T, s *store.Store, path string, timeout time.Duration, chats ...string) *fixture {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := twiliostandin.NewServer(testAccount, testToken)
	t.Cleanup(tw.Close)
	client := sms.New(testAccount, testToken, tw.URL)
	client.SetTimeout(timeout) // 0 keeps the default
	clock := bot.NewManualClock(time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC))
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: quiet, Texter: sms.NewTexter(client), Chats: chats})
	if err := b.SyncTemplates(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := bot.NewWorker(s, clock, "w", quiet)
	b.Register(w)
	return &fixture{bot: b, store: s, clock: clock, worker: w, twilio: tw}
}

// missed opens a case through the bot's intake.
func (f *fixture) missed(t *testing.T, sid, from string) store.Case {
	t.Helper()
	res, err := f.bot.ReportCall(context.Background(), bot.CallReport{Provider: "twilio", SID: sid, From: from, To: lettingsNum, Outcome: bot.CallMissed, Status: "no-answer"})
	if err != nil || res.CaseID == 0 {
		t.Fatalf("report: %+v %v", res, err)
	}
	c, _ := f.store.CaseByID(context.Background(), res.CaseID)
	return c
}

// countEvents counts the case's events of kind.
func countEvents(t *testing.T, s *store.Store, caseID int64, kind string) int {
	t.Helper()
	events, err := s.EventsForCase(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func refusal(t *testing.T, err error) *bot.Refusal {
	t.Helper()
	var r *bot.Refusal
	if !errors.As(err, &r) {
		t.Fatalf("want a refusal, got %v", err)
	}
	return r
}

func TestClaimFirstClickWins(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		c := f.missed(t, "CA1", callerNum)
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, a := range []bot.Actor{alice, bob} {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = f.bot.Claim(ctx, c.ID, a) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if r := refusal(t, err); r.Owner == "" {
				t.Fatalf("the loser was not told who owns it: %+v", r)
			}
		}
		if won != 1 {
			t.Fatalf("%d claims won, want exactly 1", won)
		}
		got, _ := f.store.CaseByID(ctx, c.ID)
		if got.State != store.CaseClaimed || got.ClaimedAt == nil || (got.Owner != alice.ID && got.Owner != bob.ID) {
			t.Fatalf("case = %+v", got)
		}
		if claims := countEvents(t, f.store, c.ID, "claimed"); claims != 1 {
			t.Fatalf("%d claim events", claims)
		}
	})
}

func TestOnlyStaffAndManagersAct(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.bot.Claim(ctx, c.ID, visitor); err == nil {
			t.Fatal("someone outside the line channels claimed a case")
		}
		if _, err := f.bot.Claim(ctx, c.ID, manager); err != nil {
			t.Fatalf("a manager could not claim: %v", err)
		}
		if _, err := f.bot.Release(ctx, c.ID, alice); err == nil {
			t.Fatal("a non-owner released someone else's case")
		}
		if _, err := f.bot.Reassign(ctx, c.ID, alice, bob.ID); err == nil {
			t.Fatal("staff reassigned a case")
		}
		got, err := f.bot.Reassign(ctx, c.ID, manager, bob.ID)
		if err != nil || got.Owner != bob.ID || got.AssignedBy != manager.ID {
			t.Fatalf("reassign: %+v %v", got, err)
		}
		if got, err := f.bot.Release(ctx, c.ID, bob); err != nil || got.State != store.CaseOpen || got.Owner != "" {
			t.Fatalf("owner release: %+v %v", got, err)
		}
	})
}

func TestReplyTemplatesAndFirstContact(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		f.worker.RunDue(ctx) // the text-back

		// The caller is not a known contact: {{caller_name}} cannot be filled.
		choices, err := f.bot.ReplyChoices(ctx, c.ID, alice)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]bot.TemplateChoice{}
		for _, ch := range choices {
			keys[ch.Key] = ch
		}
		if _, auto := keys["textback_day"]; auto {
			t.Fatal("automatic text-back offered as a reply")
		}
		if _, other := keys["maintenance_ack"]; other {
			t.Fatal("a maintenance template offered for an untriaged case")
		}
		cm, ok := keys["callback_missed"]
		if !ok || len(cm.Missing) != 0 || !strings.Contains(cm.Preview, "Alice tried to call") {
			t.Fatalf("callback_missed choice = %+v", cm)
		}
		if vs := keys["viewing_slots"]; len(vs.Missing) == 0 {
			// viewing_slots is for viewing cases only; it must not be offered.
			if _, offered := keys["viewing_slots"]; offered {
				t.Fatal("viewing_slots offered for an untriaged case")
			}
		}
		_, err = f.bot.SendReply(ctx, c.ID, alice, "safety_nonexistent")
		refusal(t, err)

		// A template needing the caller's name is refused with a clear message.
		f.store.SyncTemplate(ctx, "greeting", "Hi {{caller_name}}, it's {{agent}}.", nil, f.clock.Now())
		_, err = f.bot.SendReply(ctx, c.ID, alice, "greeting")
		if r := refusal(t, err); !strings.Contains(r.Message, "caller name") {
			t.Fatalf("refusal = %q", r.Message)
		}
		f.clock.Advance(7 * time.Minute)
		got, err := f.bot.SendReply(ctx, c.ID, alice, "callback_missed")
		if err != nil {
			t.Fatal(err)
		}
		// A queued reply is no contact yet: it counts once Twilio accepts it.
		if got.FirstContactAt != nil || got.ContactAttempts != 0 {
			t.Fatalf("a queued reply counted as contact: %+v", got)
		}
		f.worker.RunDue(ctx)
		if got, _ = f.store.CaseByID(ctx, c.ID); got.FirstContactAt == nil || got.FirstContactAt.Sub(c.CreatedAt) != 7*time.Minute || got.ContactAttempts != 1 {
			t.Fatalf("first contact not recorded on acceptance: %+v", got)
		}
		texts := f.twilio.Messages()
		if len(texts) != 2 || !strings.HasPrefix(texts[1].Body, "Sorry we missed you, Alice tried") || strings.Contains(texts[1].Body, "{{") {
			t.Fatalf("texts = %+v", texts)
		}
		// Opted-out callers are not texted by staff either.
		f.store.OptOut(ctx, callerNum, "keyword", f.clock.Now())
		_, err = f.bot.SendReply(ctx, c.ID, alice, "callback_missed")
		refusal(t, err)
	})
}

func TestLogCallbackCloseReopenSpam(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.bot.LogCallback(ctx, c.ID, alice, "shouted", ""); err == nil {
			t.Fatal("an unknown result was accepted")
		}
		f.clock.Advance(4 * time.Minute)
		got, err := f.bot.LogCallback(ctx, c.ID, alice, "no_answer", "rang twice")
		if err != nil || got.ContactAttempts != 1 || got.FirstContactAt == nil {
			t.Fatalf("log callback: %+v %v", got, err)
		}
		if _, err := f.bot.Close(ctx, c.ID, alice, "booked", "   "); err == nil {
			t.Fatal("closed without a note")
		}
		if _, err := f.bot.Close(ctx, c.ID, alice, "sold", "x"); err == nil {
			t.Fatal("closed with an unknown outcome")
		}
		got, err = f.bot.Close(ctx, c.ID, alice, "booked", "Viewing Thursday 2pm")
		if err != nil || got.State != store.CaseClosed || got.Outcome != "booked" || got.CloseNote != "Viewing Thursday 2pm" || got.ClosedAt == nil {
			t.Fatalf("close: %+v %v", got, err)
		}
		card, _ := f.bot.Card(ctx, c.ID)
		if len(card.Actions) != 1 || card.Actions[0] != bot.ActionReopen || card.FirstContact == nil || *card.FirstContact != 4*time.Minute {
			t.Fatalf("closed card = %+v", card)
		}
		if _, err := f.bot.Claim(ctx, c.ID, bob); err == nil {
			t.Fatal("claimed a closed case")
		}
		got, err = f.bot.Reopen(ctx, c.ID, bob)
		if err != nil || got.State != store.CaseOpen || got.Outcome != "" {
			t.Fatalf("reopen: %+v %v", got, err)
		}
		if _, err := f.bot.MarkSpam(ctx, c.ID, bob); err == nil {
			t.Fatal("staff marked a caller as spam: that is for managers")
		}
		got, err = f.bot.MarkSpam(ctx, c.ID, manager)
		if err != nil || got.State != store.CaseClosed || got.Outcome != "spam" || !got.Spam {
			t.Fatalf("spam: %+v %v", got, err)
		}
		if spam, _ := f.store.IsSpam(ctx, callerNum); !spam {
			t.Fatal("not on the spam list")
		}
		// The timeline went to the chat thread.
		pending, _ := f.store.OutboxByState(ctx, store.OutboxPending, 100)
		kinds := map[string]int{}
		for _, it := range pending {
			kinds[it.Kind]++
		}
		if kinds["chat.thread.slack"] < 4 || kinds["chat.card.slack"] < 5 {
			t.Fatalf("chat work queued: %v", kinds)
		}
	})
}

func TestTemplatesAndNumbersCommands(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.bot.TemplatesCommand(ctx, alice, "add promo Hi {{business}}"); err == nil {
			t.Fatal("staff added a template")
		}
		if _, err := f.bot.TemplatesCommand(ctx, manager, "add promo Hi {{nonsense}}"); err == nil {
			t.Fatal("a template with an unknown variable was saved")
		}
		out, err := f.bot.TemplatesCommand(ctx, manager, "add promo Hi from {{business}}, {{agent}} here.")
		if err != nil || !strings.Contains(out.String(), "waiting for approval") {
			t.Fatalf("add: %q %v", out, err)
		}
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.bot.SendReply(ctx, c.ID, alice, "promo"); err == nil {
			t.Fatal("an unapproved template was sent")
		}
		if out, err := f.bot.TemplatesCommand(ctx, manager, "approve promo"); err != nil || !strings.Contains(out.String(), "Approved promo version 1") {
			t.Fatalf("approve: %q %v", out, err)
		}
		if _, err := f.bot.SendReply(ctx, c.ID, alice, "promo"); err != nil {
			t.Fatalf("approved template not sendable: %v", err)
		}
		list, _ := f.bot.TemplatesCommand(ctx, alice, "")
		if !strings.Contains(list.String(), "promo v1") {
			t.Fatalf("list = %s", list)
		}

		if _, err := f.bot.NumberCommand(ctx, alice, "optout", "07700 900999"); err == nil {
			t.Fatal("staff opted a number out")
		}
		if out, err := f.bot.NumberCommand(ctx, manager, "optout", "07700 900999"); err != nil || !strings.Contains(out.String(), "+447700900999 is opted out") {
			t.Fatalf("optout: %q %v", out, err)
		}
		if opted, _ := f.store.IsOptedOut(ctx, "+447700900999"); !opted {
			t.Fatal("not opted out")
		}
		f.bot.NumberCommand(ctx, manager, "optin", "+447700900999")
		if opted, _ := f.store.IsOptedOut(ctx, "+447700900999"); opted {
			t.Fatal("not opted in")
		}
		f.bot.NumberCommand(ctx, manager, "spam", "+447700900998")
		if spam, _ := f.store.IsSpam(ctx, "+447700900998"); !spam {
			t.Fatal("not on the spam list")
		}
		if _, err := f.bot.NumberCommand(ctx, manager, "spam", "hello"); err == nil {
			t.Fatal("a non-number went on the spam list")
		}
	})
}

func TestQueueOldestFirstWithFilters(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		a := f.missed(t, "CA1", "+447700900101")
		f.clock.Advance(time.Minute)
		b := f.missed(t, "CA2", "+447700900102")
		f.clock.Advance(time.Minute)
		c := f.missed(t, "CA3", "+447700900103")
		f.bot.Claim(ctx, b.ID, alice)
		f.bot.Close(ctx, c.ID, alice, "resolved", "done")
		v, err := f.bot.Queue(ctx, bot.QueueRequest{Platform: "slack", Actor: alice})
		if err != nil || v.Total != 2 || len(v.Items) != 2 || v.Items[0].CaseID != a.ID || v.Items[1].CaseID != b.ID {
			t.Fatalf("queue = %+v %v", v, err)
		}
		if v.Items[0].Age != 2*time.Minute || v.Items[1].Owner != alice.ID {
			t.Fatalf("items = %+v", v.Items)
		}
		mine, _ := f.bot.Queue(ctx, bot.QueueRequest{Mine: true, Actor: alice})
		if mine.Total != 1 || mine.Items[0].CaseID != b.ID {
			t.Fatalf("mine = %+v", mine)
		}
		if _, err := f.bot.Queue(ctx, bot.QueueRequest{LineName: "nowhere", Actor: alice}); err == nil {
			t.Fatal("unknown line accepted")
		}
		if l, _ := f.bot.Queue(ctx, bot.QueueRequest{LineName: "maintenance", Actor: alice}); l.Total != 0 {
			t.Fatalf("maintenance line queue = %d", l.Total)
		}
	})
}

// A reply to a known contact fills {{caller_name}} from the contact, inside
// the reply's transaction (on SQLite, a second connection would never come).
func TestReplyToAKnownContact(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, _, err := f.store.UpsertContact(ctx, store.Contact{Name: "Jane Smith", Kind: "tenant", Property: "14 Elm Street", Unit: "Flat 2"}, []string{callerNum}, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		c := f.missed(t, "CA1", callerNum)
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM1", From: callerNum, To: lettingsNum, Body: "2"}); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := f.bot.SendReply(ctx, c.ID, alice, "maintenance_ack"); done <- err }()
		if err := within(t, done, 10*time.Second, "SendReply hung"); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		texts := f.twilio.Messages()
		last := texts[len(texts)-1].Body
		if len(texts) != 2 || !strings.HasPrefix(last, "Hi Jane, Alice from Northside Lettings has your repair request (ref #") {
			dead, _ := f.store.OutboxByState(ctx, store.OutboxDead, 10)
			pend, _ := f.store.OutboxByState(ctx, store.OutboxPending, 10)
			t.Fatalf("reply = %q (texts %d, dead %+v, pending %+v)", last, len(texts), dead, pend)
		}
		card, _ := f.bot.Card(ctx, c.ID)
		if card.Caller.Label() != "Jane Smith (tenant)" || card.Caller.Unit != "Flat 2" {
			t.Fatalf("card caller = %+v", card.Caller)
		}
	})
}

// each runs fn on every backend with a fresh fixture.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, s *store.Store) { fn(t, newFixture(t, s)) })
}
