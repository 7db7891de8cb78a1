package bot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	rbslack "ringback/bot/slack"
	"ringback/bot/slack/slackstandin"
	"ringback/store"
	"ringback/store/storetest"
)

// A missed call's first thread entry (its text-back, sent while the card
// was on its way to Slack) runs in the slot its card frees, and on
// PostgreSQL the statement saving the card records the entry's first
// attempt too: the entry is posted with no statement of its own before
// it (a missed call cost one more: CardSlotBeginning's). Both stores post
// one card and one entry in its thread, each attempt recorded.
func TestFirstThreadEntryIsBegunWithTheCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixtureOn(t, s, rbslack.Platform)
		sl := slackstandin.NewServer(slackToken)
		t.Cleanup(sl.Close)
		// Slack answers as slowly as it does: the text is accepted, and
		// its entry written, while the card is on its way.
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			sl.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(slow.Close)
		sa := rbslack.New(slackToken, "", slow.URL+"/", f.bot, quiet)
		f.bot.RegisterChat(f.worker, sa)
		runningWorker(t, f.worker)
		counter := s.CountStatements()
		defer s.StopCounting()

		c := f.missed(t, "CA1", callerNum)
		if !sl.WaitFor(func() bool {
			msgs := sl.Messages("C0LETTINGS")
			return len(msgs) == 1 && len(sl.Thread("C0LETTINGS", msgs[0].TS)) == 1
		}, 10*time.Second) {
			t.Fatalf("Slack has %d messages in the lettings channel, want the card and one entry in its thread", len(sl.Messages("C0LETTINGS")))
		}
		waitIdle(t, s, f.clock.Now)
		card, err := s.CardFor(context.Background(), c.ID, rbslack.Platform)
		if err != nil || card.MessageID != sl.Messages("C0LETTINGS")[0].TS {
			t.Fatalf("the case's card row %+v (%v), want the card posted", card, err)
		}
		var posts []store.ChatPost
		if err := s.DB().Select(&posts, `SELECT platform, post_key, started_at, channel, message_id, in_flight_at FROM chat_posts`); err != nil {
			t.Fatal(err)
		}
		if len(posts) != 2 || posts[0].MessageID == "" || posts[1].MessageID == "" || posts[0].InFlightAt != nil || posts[1].InFlightAt != nil {
			t.Errorf("posts recorded %+v, want the card's and the entry's, each saved", posts)
		}
		if s.Dialect() != "postgres" {
			return
		}
		if n := counter.Total("WITH begun AS (INSERT INTO chat_posts"); n != 0 {
			t.Errorf("%d statements began the entry's post on their own, want none (the card's save does):\n%v", n, counter.Sequence())
		}
	})
}

// waitIdle returns once no outbox row is running or due at now.
func waitIdle(t *testing.T, s *store.Store, now func() time.Time) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		busy, err := s.OutboxBusy(context.Background(), now())
		if err != nil {
			t.Fatal(err)
		}
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("outbox rows still to run")
		}
	}
}
