package bot_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot"
	"ringback/sms/twiliostandin"
	"ringback/store"
	"ringback/store/storetest"
)

// newTexterFixture is newFixture with a Twilio client that gives up after
// timeout, so a test can lose Twilio's answer to a send.
func newTexterFixture(t *testing.T, s *store.Store, timeout time.Duration) *fixture {
	t.Helper()
	return newFixtureWith(t, s, filepath.Join("..", "ringback.example.yaml"), timeout, "slack")
}

// smsRows are the outbox rows that send texts.
func smsRows(t *testing.T, s *store.Store, state string) []store.OutboxItem {
	t.Helper()
	all, err := s.OutboxByState(context.Background(), state, 100)
	if err != nil {
		t.Fatal(err)
	}
	var rows []store.OutboxItem
	for _, it := range all {
		if it.Kind == bot.KindSMS {
			rows = append(rows, it)
		}
	}
	return rows
}

// lostTextBack is a missed call whose text-back Twilio took while its answer
// came too late; Twilio stays slow until the flag is cleared.
func (f *fixture) lostTextBack(t *testing.T) (store.Case, *atomic.Bool) {
	t.Helper()
	slow := f.slowTwilio()
	c := f.missed(t, "CA1", callerNum)
	f.worker.RunDue(context.Background())
	return c, slow
}

// slowTwilio makes the Twilio stand-in answer each send 2.5 s late, past the
// fixture's 1 s timeout: Twilio has the text, its answer comes too late.
// Storing false in the flag it returns makes it answer at once again.
func (f *fixture) slowTwilio() *atomic.Bool {
	var slow atomic.Bool
	slow.Store(true)
	f.twilio.OnMessage(func(twiliostandin.SentMessage) {
		if slow.Load() {
			time.Sleep(2500 * time.Millisecond)
		}
	})
	return &slow
}

// Twilio accepted the text-back but Ringback never recorded it (the answer
// was lost; a process killed before its commit leaves the same rows). The
// re-run must find the text at Twilio and record it, not send a second one;
// a receipt that came meanwhile still lands.
func TestTextBackAcceptedButNotRecordedIsNotSentTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newTexterFixture(t, s, time.Second)
		c, slow := f.lostTextBack(t)
		texts := f.twilio.Messages()
		if len(texts) != 1 {
			t.Fatalf("Twilio has %d texts after the first attempt, want 1", len(texts))
		}
		ms, _ := s.MessagesForCase(ctx, c.ID)
		if len(ms) != 1 || ms[0].Status != "pending" || ms[0].SID != nil {
			t.Fatalf("after the lost answer: %+v, want one pending message without a SID", ms)
		}
		slow.Store(false)
		// Twilio delivers it before Ringback knows its SID.
		if _, err := f.bot.SMSStatus(ctx, bot.SMSReceipt{SID: texts[0].SID, State: bot.SMSDelivered}); err != nil {
			t.Fatal(err)
		}

		// Past the retry's backoff, a few times over in case a slow machine
		// makes a request time out.
		for range 4 {
			f.clock.Advance(2 * time.Minute)
			f.worker.RunDue(ctx)
		}
		if texts := f.twilio.Messages(); len(texts) != 1 {
			t.Fatalf("the caller got %d texts, want 1: %+v", len(texts), texts)
		}
		ms, _ = s.MessagesForCase(ctx, c.ID)
		if len(ms) != 1 || ms[0].SID == nil || *ms[0].SID != texts[0].SID || ms[0].Status != "delivered" || ms[0].AcceptedAt == nil {
			t.Fatalf("message = %+v, want Twilio's %s adopted and delivered", ms[0], texts[0].SID)
		}
		got, _ := s.CaseByID(ctx, c.ID)
		if got.TextbackStatus != "delivered" {
			t.Errorf("case text-back status = %q, want delivered", got.TextbackStatus)
		}
		if sent := countEvents(t, s, c.ID, "sms_sent"); sent != 1 {
			t.Errorf("%d sms_sent events, want 1", sent)
		}
		if rows := smsRows(t, s, store.OutboxDone); len(rows) != 1 {
			t.Errorf("%d text rows done, want 1", len(rows))
		}
	})
}

// A text whose first attempt never reached Twilio is sent on the re-run:
// asking first must not stop it.
func TestTextBackThatNeverReachedTwilioIsSentOnRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		f.twilio.FailNext(1, 503, 0, 0)
		c := f.missed(t, "CA1", callerNum)
		f.worker.RunDue(ctx)
		if n := len(f.twilio.Messages()); n != 0 {
			t.Fatalf("Twilio has %d texts after a 503, want 0", n)
		}
		f.clock.Advance(5 * time.Second)
		f.worker.RunDue(ctx)
		texts := f.twilio.Messages()
		ms, _ := s.MessagesForCase(ctx, c.ID)
		if len(texts) != 1 || len(ms) != 1 || ms[0].SID == nil || *ms[0].SID != texts[0].SID {
			t.Fatalf("texts %+v, messages %+v: want one text, recorded", texts, ms)
		}
	})
}

// A store that fails while the row is read (PostgreSQL restarting) delays
// the text-back; it does not kill it.
func TestTextBackSurvivesAStoreErrorReadingTheMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		c := f.missed(t, "CA1", callerNum)
		// Every read of the message fails while the table is away.
		if _, err := s.DB().Exec(`ALTER TABLE messages RENAME TO messages_away`); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		if _, err := s.DB().Exec(`ALTER TABLE messages_away RENAME TO messages`); err != nil {
			t.Fatal(err)
		}
		if dead := smsRows(t, s, store.OutboxDead); len(dead) != 0 {
			t.Fatalf("the text-back died of a store error: %+v", dead)
		}
		f.clock.Advance(5 * time.Second)
		f.worker.RunDue(ctx)
		texts := f.twilio.Messages()
		ms, _ := s.MessagesForCase(ctx, c.ID)
		if len(texts) != 1 || len(ms) != 1 || ms[0].Status != "queued" {
			t.Fatalf("texts %+v, messages %+v: want the text-back sent once the store is back", texts, ms)
		}
	})
}

// A text found at Twilio after the lost answer may have failed meanwhile:
// adopting it records the failure and what it says about the number.
func TestAdoptedTextThatFailedMarksTheNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newTexterFixture(t, s, time.Second)
		c, slow := f.lostTextBack(t)
		slow.Store(false)
		texts := f.twilio.Messages()
		if len(texts) != 1 {
			t.Fatalf("Twilio has %d texts, want 1", len(texts))
		}
		// The landline's carrier refuses it; the fixture gives Twilio no
		// callback URL, so only the list tells.
		_ = f.twilio.Deliver(texts[0].SID, "undelivered", 30006)
		for range 4 {
			f.clock.Advance(2 * time.Minute)
			f.worker.RunDue(ctx)
		}
		if n := len(f.twilio.Messages()); n != 1 {
			t.Fatalf("the caller got %d texts, want 1", n)
		}
		got, _ := s.CaseByID(ctx, c.ID)
		if got.TextbackStatus != "undelivered (error 30006)" {
			t.Errorf("case text-back status = %q, want undelivered (error 30006)", got.TextbackStatus)
		}
		if why, err := s.Untextable(ctx, callerNum); err != nil || why == "" {
			t.Errorf("number not marked untextable: %q %v", why, err)
		}
	})
}
