package bot_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
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

// lostTextBack plays a missed call whose text-back Twilio takes but
// answers too late: the caller has the one text, Ringback has not recorded
// it. Storing false in slow makes Twilio answer at once again.
func lostTextBack(t *testing.T, s *store.Store) (f *fixture, c store.Case, slow *atomic.Bool) {
	t.Helper()
	f = newTexterFixture(t, s, time.Second)
	slow = f.slowTwilio()
	c = f.missed(t, "CA1", callerNum)
	f.worker.RunDue(context.Background())
	if n := len(f.twilio.Messages()); n != 1 {
		t.Fatalf("Twilio has %d texts after the first attempt, want 1", n)
	}
	return f, c, slow
}

// Twilio accepted the text-back but Ringback never recorded it (the answer
// was lost; a process killed before its commit leaves the same rows). The
// re-run must find the text at Twilio and record it, not send a second one;
// a receipt that came meanwhile still lands.
func TestTextBackAcceptedButNotRecordedIsNotSentTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, c, slow := lostTextBack(t, s)
		texts := f.twilio.Messages()
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

// A text whose first attempt Twilio refused (503: it took nothing) is sent
// on the re-run without asking Twilio first for a text that cannot be
// there: in an outage every retry asked, doubling the calls when it ended.
func TestTextBackThatNeverReachedTwilioIsSentOnRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, c := retriedAfter(t, s, 503)
		texts := f.twilio.Messages()
		ms, _ := s.MessagesForCase(context.Background(), c.ID)
		if len(texts) != 1 || len(ms) != 1 || ms[0].SID == nil || *ms[0].SID != texts[0].SID {
			t.Fatalf("texts %+v, messages %+v: want one text, recorded", texts, ms)
		}
		if n := f.twilio.MessageLists(); n != 0 {
			t.Errorf("the re-run listed Twilio's messages %d times, want 0: the refused attempt left nothing there", n)
		}
	})
}

// A text whose attempt may have reached Twilio (it answered 500: maybe
// after creating the message) is looked for before it is sent again.
func TestTextBackThatMayHaveReachedTwilioIsLookedFor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f, _ := retriedAfter(t, s, 500)
		if n := len(f.twilio.Messages()); n != 1 {
			t.Fatalf("Twilio has %d texts, want 1", n)
		}
		if n := f.twilio.MessageLists(); n != 1 {
			t.Errorf("the re-run listed Twilio's messages %d times, want once", n)
		}
	})
}

// retriedAfter has a missed call's text-back answered httpStatus by
// Twilio, then run again 5 s later.
func retriedAfter(t *testing.T, s *store.Store, httpStatus int) (*fixture, store.Case) {
	ctx := context.Background()
	f := newFixture(t, s)
	f.twilio.FailNext(1, httpStatus, 0, 0)
	c := f.missed(t, "CA1", callerNum)
	f.worker.RunDue(ctx)
	if n := len(f.twilio.Messages()); n != 0 {
		t.Fatalf("Twilio has %d texts after a %d, want 0", n, httpStatus)
	}
	f.clock.Advance(5 * time.Second)
	f.worker.RunDue(ctx)
	return f, c
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
		f, c, slow := lostTextBack(t, s)
		slow.Store(false)
		texts := f.twilio.Messages()
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

// Quiet hours: when a text that is not an immediate reply may go.

// The recipient's window comes from their number: its time zone, and its
// US state's stricter law; the line's zone when the number says nothing.
func TestQuietHoursPolicy(t *testing.T) {
	// Zone data is built in (package config embeds time/tzdata).
	ny, _ := time.LoadLocation("America/New_York")
	la, _ := time.LoadLocation("America/Los_Angeles")
	chicago, _ := time.LoadLocation("America/Chicago")
	london, _ := time.LoadLocation("Europe/London")
	usLine := &config.Line{Timezone: chicago}
	ukLine := &config.Line{Timezone: london}
	for _, tc := range []struct {
		name   string
		number string
		line   *config.Line
		now    time.Time
		want   time.Time // zero: allowed now
		zone   string
		window string
	}{
		{name: "Florida number at 20:30 waits for 08:00", number: "+13055550123", line: usLine,
			now: time.Date(2026, 11, 16, 20, 30, 0, 0, ny), want: time.Date(2026, 11, 17, 8, 0, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
		{name: "Florida number at 19:59 may go", number: "+13055550123", line: usLine,
			now: time.Date(2026, 11, 16, 19, 59, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
		{name: "California number at 20:30 may go", number: "+14155550123", line: usLine,
			now: time.Date(2026, 11, 16, 20, 30, 0, 0, la), zone: "America/Los_Angeles", window: "08:00–21:00"},
		{name: "California number at 21:00 waits", number: "+14155550123", line: usLine,
			now: time.Date(2026, 11, 16, 21, 0, 0, 0, la), want: time.Date(2026, 11, 17, 8, 0, 0, 0, la), zone: "America/Los_Angeles", window: "08:00–21:00"},
		{name: "Maryland number at 06:00 waits for 08:00 the same day", number: "+14105550123", line: ukLine,
			now: time.Date(2026, 11, 16, 6, 0, 0, 0, ny), want: time.Date(2026, 11, 16, 8, 0, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
		{name: "Oklahoma number in its own zone", number: "+14055550123", line: ukLine,
			now: time.Date(2026, 11, 16, 20, 15, 0, 0, chicago), want: time.Date(2026, 11, 17, 8, 0, 0, 0, chicago), zone: "America/Chicago", window: "08:00–20:00"},
		// US clocks go forward at 02:00 on Sunday 8 March 2026: 08:00 EDT
		// is 11½ hours of wall clock after 20:30 EST but only 10½ real ones.
		{name: "DST starts overnight", number: "+13055550123", line: usLine,
			now: time.Date(2026, 3, 7, 20, 30, 0, 0, ny), want: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), zone: "America/New_York", window: "08:00–20:00"},
		// UK clocks go back at 02:00 on Sunday 25 October 2026.
		{name: "DST ends overnight", number: "+447700900123", line: ukLine,
			now: time.Date(2026, 10, 24, 22, 0, 0, 0, london), want: time.Date(2026, 10, 25, 8, 0, 0, 0, time.UTC), zone: "Europe/London", window: "08:00–21:00"},
		// A toll-free number maps to forty zones: the line's is used.
		{name: "non-geographic number uses the line's zone", number: "+18005550123", line: usLine,
			now: time.Date(2026, 11, 16, 21, 30, 0, 0, chicago), want: time.Date(2026, 11, 17, 8, 0, 0, 0, chicago), zone: "America/Chicago", window: "08:00–21:00"},
		{name: "non-geographic number on a London line", number: "+18005550123", line: ukLine,
			now: time.Date(2026, 11, 16, 20, 30, 0, 0, london), zone: "Europe/London", window: "08:00–21:00"},
		{name: "withheld number uses the line's zone", number: "anonymous", line: ukLine,
			now: time.Date(2026, 11, 16, 7, 0, 0, 0, london), want: time.Date(2026, 11, 16, 8, 0, 0, 0, london), zone: "Europe/London", window: "08:00–21:00"},
		{name: "a line's own window", number: "+447700900123", line: &config.Line{Timezone: london, QuietHours: config.QuietHours{From: config.TimeOfDay{Hour: 9}, To: config.TimeOfDay{Hour: 18}}},
			now: time.Date(2026, 11, 16, 18, 0, 0, 0, london), want: time.Date(2026, 11, 17, 9, 0, 0, 0, london), zone: "Europe/London", window: "09:00–18:00"},
		{name: "quiet hours off", number: "+13055550123", line: &config.Line{Timezone: chicago, QuietHours: config.QuietHours{Off: true}},
			now: time.Date(2026, 11, 16, 23, 0, 0, 0, ny), zone: "America/New_York", window: "08:00–20:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := bot.QuietHoursAt(tc.number, tc.line, tc.now.UTC())
			want := tc.want
			if want.IsZero() {
				want = tc.now
			}
			if w.Allowed != tc.want.IsZero() || !w.At.Equal(want) {
				t.Errorf("allowed %v at %s, want allowed %v at %s", w.Allowed, w.At.In(w.Zone), tc.want.IsZero(), want.In(w.Zone))
			}
			if w.Zone.String() != tc.zone || w.Window() != tc.window {
				t.Errorf("zone %s window %s, want %s %s", w.Zone, w.Window(), tc.zone, tc.window)
			}
		})
	}
}

// Every area code of a stricter state (NANPA's list in testdata) gets that
// state's window.
func TestQuietHoursStateOfEveryAreaCode(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "quiet_states.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		state, code, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || strings.HasPrefix(state, "#") {
			continue
		}
		n++
		w := bot.QuietHoursAt("+1"+code+"2345678", &config.Line{Timezone: time.UTC}, time.Date(2026, 11, 16, 12, 0, 0, 0, time.UTC))
		if w.State != state || w.Window() != "08:00–20:00" {
			t.Errorf("area code %s: state %q window %s, want %s 08:00–20:00", code, w.State, w.Window(), state)
		}
	}
	if n < 30 {
		t.Fatalf("read %d area codes", n)
	}
}

// scheduleFloridaReply plays a missed call from a Florida number at 20:30
// its time (past Florida's 20:00) and schedules Alice's reply for the
// caller's window; opens is 08:00 the next morning there.
func scheduleFloridaReply(t *testing.T, s *store.Store) (f *fixture, c store.Case, opens time.Time) {
	t.Helper()
	ctx := context.Background()
	f = newTexterFixture(t, s, time.Second)
	f.clock.Set(time.Date(2026, 11, 17, 1, 30, 0, 0, time.UTC))
	opens = time.Date(2026, 11, 17, 13, 0, 0, 0, time.UTC)
	c = f.missed(t, "CA1", "+13055550123")
	f.worker.RunDue(ctx)
	if n := len(f.twilio.Messages()); n != 1 {
		t.Fatalf("%d texts after the missed call, want the text-back (an immediate reply is not held)", n)
	}
	timing, err := f.bot.ReplyTiming(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !timing.Quiet || timing.CallerNow.Format("15:04") != "20:30" || timing.LaterLabel() != "Send at 08:00" || timing.Law != "Florida law" {
		t.Fatalf("reply timing = %+v, want quiet, 20:30 for the caller, Send at 08:00", timing)
	}
	if _, err := f.bot.ScheduleReply(ctx, c.ID, alice, "callback_missed"); err != nil {
		t.Fatal(err)
	}
	return f, c, opens
}

// A scheduled reply that falls due outside the window (Ringback was down
// from before 08:00 until 21:30) waits for the next opening, and the wait
// spends none of its attempts.
func TestScheduledReplyFallingDueInQuietHoursWaitsAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, _, opens := scheduleFloridaReply(t, s)
		f.clock.Set(opens.Add(13*time.Hour + 30*time.Minute)) // 21:30 in Miami
		f.worker.RunDue(ctx)
		if n := len(f.twilio.Messages()); n != 1 {
			t.Fatalf("at 21:30 the caller has %d texts, want only the text-back", n)
		}
		rows := smsRows(t, s, store.OutboxPending)
		if len(rows) != 1 || !rows[0].RunAt.Equal(opens.Add(24*time.Hour)) || rows[0].Attempts != 0 {
			t.Fatalf("pending text rows = %+v, want the reply waiting for 08:00 the next day, no attempt spent", rows)
		}
		f.clock.Set(opens.Add(24 * time.Hour))
		f.worker.RunDue(ctx)
		if n := len(f.twilio.Messages()); n != 2 {
			t.Fatalf("at 08:00 the next day the caller has %d texts, want 2", n)
		}
	})
}

// A reply staff schedule for the caller's window is an outbox row that
// waits: not sent before 08:00 in the caller's time, sent exactly once
// after it, even when Twilio's answer to that send is lost.
func TestScheduledReplyWaitsForTheCallersWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, c, opens := scheduleFloridaReply(t, s)
		for _, at := range []time.Time{f.clock.Now(), opens.Add(-time.Hour), opens.Add(-time.Second)} {
			f.clock.Set(at)
			f.worker.RunDue(ctx)
			if n := len(f.twilio.Messages()); n != 1 {
				t.Fatalf("at %s the caller has %d texts, want only the text-back", at.Format(time.RFC3339), n)
			}
		}
		got, _ := s.CaseByID(ctx, c.ID)
		if got.FirstContactAt != nil || got.ContactAttempts != 0 {
			t.Errorf("a reply not yet sent counts as contact: %+v", got)
		}
		events, _ := s.EventsForCase(ctx, c.ID)
		scheduled := false
		for _, e := range events {
			scheduled = scheduled || e.Kind == "reply_scheduled" && strings.Contains(e.Data, "scheduled a reply for 08:00 (caller's time)")
		}
		if !scheduled {
			t.Errorf("no 'scheduled a reply for 08:00 (caller's time)' on the case: %+v", events)
		}

		// 08:00: Twilio takes the text but its answer is lost; the re-run
		// finds it there and sends nothing more.
		slow := f.slowTwilio()
		f.clock.Set(opens)
		f.worker.RunDue(ctx)
		slow.Store(false)
		for range 4 {
			f.clock.Advance(2 * time.Minute)
			f.worker.RunDue(ctx)
		}
		texts := f.twilio.Messages()
		if len(texts) != 2 || !strings.HasPrefix(texts[1].Body, "Sorry we missed you, Alice") {
			t.Fatalf("texts = %+v, want the text-back and the reply once", texts)
		}
		if got, _ = s.CaseByID(ctx, c.ID); got.FirstContactAt == nil || got.ContactAttempts != 1 {
			t.Errorf("the sent reply is not the case's contact: %+v", got)
		}
	})
}

// Urgent safety texts are exempt: on an urgent case Reply offers no later
// send, and a reply asked for "at the window" goes now.
func TestUrgentReplyIsNotHeldForQuietHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		const florida = "+13055550123"
		f.clock.Set(time.Date(2026, 11, 17, 2, 0, 0, 0, time.UTC)) // 21:00 in Miami
		c := f.missed(t, "CA1", florida)
		if _, err := f.bot.ReceiveSMS(ctx, bot.InboundSMS{SID: "SM1", From: florida, To: lettingsNum, Body: "9"}); err != nil {
			t.Fatal(err)
		}
		if timing, err := f.bot.ReplyTiming(ctx, c.ID); err != nil || timing.Quiet {
			t.Fatalf("urgent case reply timing = %+v, %v; want no quiet hours", timing, err)
		}
		f.worker.RunDue(ctx) // the text-back and the automatic safety text
		before := len(f.twilio.Messages())
		if _, err := f.bot.ScheduleReply(ctx, c.ID, alice, "safety"); err != nil {
			t.Fatal(err)
		}
		f.worker.RunDue(ctx)
		if texts := f.twilio.Messages(); len(texts) != before+1 || !strings.HasPrefix(texts[len(texts)-1].Body, "If anyone is in danger") {
			t.Fatalf("texts = %+v, want the safety reply sent at 21:00", texts)
		}
	})
}

// tick runs the due rows, then moves the clock on by step, until done
// says stop or the clock has moved by most.
func (f *fixture) tick(t *testing.T, step, most time.Duration, done func() bool) {
	t.Helper()
	for start := f.clock.Now(); !done() && f.clock.Now().Sub(start) < most; f.clock.Advance(step) {
		if _, err := f.worker.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// While Twilio is down, queued text-backs wait behind one probe a second
// instead of each spending an attempt on it, and when it comes back they
// all go out within about a second.
func TestTwilioOutageHoldsTextsBehindOneProbe(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.twilio.FailNext(1000, 503, 0, 0)
		for i := range 20 {
			f.missed(t, fmt.Sprintf("CA%d", i), fmt.Sprintf("+4477009001%02d", i))
		}
		f.tick(t, time.Second, 10*time.Second, func() bool { return false }) // ten seconds of outage
		if hit := f.twilio.EndFailures(); hit > 12 {
			t.Errorf("Twilio got %d sends during a 10 s outage, want about one a second", hit)
		}
		f.tick(t, 1100*time.Millisecond, 2*time.Second, func() bool { return false })
		if n := len(f.twilio.Messages()); n != 20 {
			t.Errorf("%d of 20 text-backs out 1.1 s after the outage, want all", n)
		}
	})
}

// A text-back that failed many times (an outage, and replicas killed while
// it ran) still retries seconds apart while it is young: it goes out
// within seconds of Twilio coming back, not minutes.
func TestTextBackRetriesSoonWhileYoung(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.twilio.FailNext(8, 503, 0, 0)
		start := f.clock.Now()
		f.missed(t, "CA1", callerNum)
		f.tick(t, 500*time.Millisecond, 5*time.Minute, func() bool { return len(f.twilio.Messages()) > 0 })
		if took := f.clock.Now().Sub(start); took > 15*time.Second {
			t.Errorf("after 8 failed sends the text-back went out %s after the call, want ≤ 15 s", took)
		}
	})
}

// Two workers whose claims on one text overlapped (the first lost its claim
// while Twilio answered; the second found the text at Twilio and adopted
// it) both record it: the second changes nothing, so the case's thread
// says "Text-back sent" once.
func TestTextRecordedTwiceIsOnTheCaseOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, c, _ := lostTextBack(t, s)
		texts := f.twilio.Messages()
		ms, _ := s.MessagesForCase(ctx, c.ID)
		entriesBefore := len(outbox(t, s, bot.KindThread+".slack"))
		for range 2 {
			if err := f.bot.SMSAccepted(ctx, ms[0], bot.SentSMS{SID: texts[0].SID, Status: bot.SMSQueued}); err != nil {
				t.Fatal(err)
			}
		}
		if sent := countEvents(t, s, c.ID, "sms_sent"); sent != 1 {
			t.Errorf("%d sms_sent events, want 1", sent)
		}
		if n := len(outbox(t, s, bot.KindThread+".slack")) - entriesBefore; n != 1 {
			t.Errorf("%d thread entries queued for the text, want 1", n)
		}
	})
}
