package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A reply staff schedule for the caller's window is an outbox row that
// waits: not sent before 08:00 in the caller's time, sent exactly once
// after it, even when Twilio's answer to that send is lost.
func TestScheduledReplyWaitsForTheCallersWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newTexterFixture(t, s, time.Second)
		const florida = "+13055550123"
		// Monday 16 November 2026, 20:30 in Miami: past Florida's 20:00.
		f.clock.Set(time.Date(2026, 11, 17, 1, 30, 0, 0, time.UTC))
		opens := time.Date(2026, 11, 17, 13, 0, 0, 0, time.UTC) // 08:00 in Miami
		c := f.missed(t, "CA1", florida)
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
