package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	rbdiscord "ringback/bot/discord"
	"ringback/bot/discord/discordstandin"
	rbslack "ringback/bot/slack"
	"ringback/bot/slack/slackstandin"
	"ringback/store"
	"ringback/store/storetest"
)

const (
	slackToken      = "xoxb-chat"
	discordToken    = "discord-chat"
	discordApp      = "1100000000000000100"
	discordLettings = "1100000000000000001"
)

// chatSetup is the bot with both chat platforms, each behind its
// stand-in over real HTTP, performing through one outbox worker.
type chatSetup struct {
	*fixture
	slack   *slackstandin.Server
	discord *discordstandin.Server
	sa      *rbslack.Adapter
}

func newChatSetup(t *testing.T, s *store.Store) *chatSetup {
	t.Helper()
	f := newFixtureOn(t, s, rbslack.Platform, rbdiscord.Platform)
	sl := slackstandin.NewServer(slackToken)
	t.Cleanup(sl.Close)
	dc := discordstandin.NewServer(discordToken, discordApp)
	t.Cleanup(dc.Close)
	sa := rbslack.New(slackToken, "", sl.URL, f.bot, quiet)
	f.bot.RegisterChat(f.worker, sa)
	f.bot.RegisterChat(f.worker, rbdiscord.New(discordToken, discordApp, dc.URL, f.bot, map[string]string{lettingsNum: discordLettings}, quiet))
	return &chatSetup{fixture: f, slack: sl, discord: dc, sa: sa}
}

// eachChat runs fn on every backend with a fresh chat setup.
func eachChat(t *testing.T, fn func(t *testing.T, x *chatSetup)) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, s *store.Store) { fn(t, newChatSetup(t, s)) })
}

// posted is a missed call whose card and entries have been posted.
func (x *chatSetup) posted(t *testing.T) store.Case {
	t.Helper()
	c := x.missed(t, "CA1", callerNum)
	x.flush(t)
	return c
}

func (x *chatSetup) flush(t *testing.T) {
	t.Helper()
	if _, err := x.worker.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// retry lets the failed rows' backoff pass and runs them again.
func (x *chatSetup) retry(t *testing.T) {
	t.Helper()
	x.clock.Advance(3 * time.Second)
	x.flush(t)
}

// slackCard is the one card in the lettings channel, which the case's row
// must point at.
func (x *chatSetup) slackCard(t *testing.T, caseID int64) slackstandin.Message {
	t.Helper()
	msgs := x.slack.Messages("C0LETTINGS")
	x.oneCard(t, rbslack.Platform, len(msgs), caseID, func() string { return msgs[0].TS })
	return msgs[0]
}

func (x *chatSetup) discordCard(t *testing.T, caseID int64) discordstandin.Message {
	t.Helper()
	msgs := x.discord.Messages(discordLettings)
	x.oneCard(t, rbdiscord.Platform, len(msgs), caseID, func() string { return msgs[0].ID })
	return msgs[0]
}

// oneCard checks that platform's channel holds n == 1 message, id, and
// that the case's card row points at it.
func (x *chatSetup) oneCard(t *testing.T, platform string, n int, caseID int64, id func() string) {
	t.Helper()
	if n != 1 {
		t.Fatalf("%d messages in the %s lettings channel, want one card", n, platform)
	}
	c, err := x.store.CardFor(context.Background(), caseID, platform)
	if err != nil || c.MessageID != id() {
		t.Fatalf("the case's %s card row %+v (%v), the card is %s", platform, c, err, id())
	}
}

// claimLosingAnswer has Alice claim the case, with lose scripting the
// platform to lose the answer to the claim's thread entry, and runs the
// rows until the entry's retry is done.
func (x *chatSetup) claimLosingAnswer(t *testing.T, caseID int64, lose func()) {
	t.Helper()
	lose()
	if _, err := x.bot.Claim(context.Background(), caseID, alice); err != nil {
		t.Fatal(err)
	}
	x.flush(t)
	x.retry(t)
}

// The card reached Slack but its answer never came back (a timeout, a
// crash before the ts was saved): the re-run finds it by its metadata and
// adopts it instead of posting a second card.
func TestSlackCardPostedButNotSavedIsAdopted(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		x.slack.LoseAnswerNext("chat.postMessage", 1)
		c := x.posted(t)
		if n := len(x.slack.Messages("C0LETTINGS")); n != 1 {
			t.Fatalf("%d messages after the lost answer, want the card", n)
		}
		x.retry(t)
		card := x.slackCard(t, c.ID)
		if x.slack.Calls("conversations.history") == 0 {
			t.Error("the re-run did not look for the card before posting")
		}

		// The adopted card is the case's card: a claim edits it and
		// threads under it.
		if _, err := x.bot.Claim(context.Background(), c.ID, alice); err != nil {
			t.Fatal(err)
		}
		x.flush(t)
		card = x.slackCard(t, c.ID)
		if card.Updates == 0 {
			t.Error("the claim did not refresh the adopted card")
		}
		if th := x.slack.Thread("C0LETTINGS", card.TS); len(th) < 2 {
			t.Errorf("no thread under the adopted card: %d messages", len(th))
		}
	})
}

// The same when the process died between the post and saving its ts: its
// card reservation and attempt are left behind, and the post is in Slack.
func TestSlackCardOfADeadWorkerIsAdopted(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		ctx := context.Background()
		c := x.missed(t, "CA1", callerNum)
		// What the worker that died had done: reserved, begun, posted.
		card, err := x.bot.Card(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("card:%d", c.ID)
		if ok, err := x.store.ReserveCard(ctx, c.ID, rbslack.Platform, "C0LETTINGS", x.clock.Now()); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
		if err := x.store.StartChatPost(ctx, rbslack.Platform, key, x.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := x.sa.PostCard(ctx, "C0LETTINGS", card, key); err != nil {
			t.Fatal(err)
		}
		x.flush(t) // the reservation is fresh: the rows wait
		if n := len(x.slack.Messages("C0LETTINGS")); n != 1 {
			t.Fatalf("%d messages while the dead worker's reservation held", n)
		}
		x.clock.Advance(61 * time.Second) // the reservation lapses
		x.flush(t)
		x.slackCard(t, c.ID)
	})
}

// A thread entry whose answer was lost is found in the card's thread
// (conversations.replies) and not posted again.
func TestSlackEntryPostedButNotSavedIsAdopted(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		c := x.posted(t)
		card := x.slackCard(t, c.ID)
		before := len(x.slack.Thread("C0LETTINGS", card.TS))

		x.claimLosingAnswer(t, c.ID, func() { x.slack.LoseAnswerNext("chat.postMessage", 1) })
		if th := x.slack.Thread("C0LETTINGS", card.TS); len(th) != before+1 {
			t.Fatalf("the thread went from %d to %d messages, want one entry more", before, len(th))
		}
		if x.slack.Calls("conversations.replies") == 0 {
			t.Error("the re-run did not look for the entry before posting")
		}
	})
}

// On Discord the card carries a nonce with enforce_nonce: the re-run's
// post returns the card the lost one created.
func TestDiscordCardPostedButNotSavedIsAdopted(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		x.discord.LoseAnswerNext(discordstandin.RouteCreateMessage, 1)
		c := x.posted(t)
		x.retry(t)
		card := x.discordCard(t, c.ID)
		if th, ok := x.discord.Thread(card.ID); !ok || len(th.Messages) == 0 {
			t.Errorf("no thread with entries under the adopted card: %+v", th)
		}
	})
}

func TestDiscordEntryPostedButNotSavedIsAdopted(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		c := x.posted(t)
		card := x.discordCard(t, c.ID)
		th, _ := x.discord.Thread(card.ID)
		before := len(th.Messages)

		x.claimLosingAnswer(t, c.ID, func() { x.discord.LoseAnswerNext(discordstandin.RouteCreateMessage, 1) })
		th, _ = x.discord.Thread(card.ID)
		if len(th.Messages) != before+1 {
			t.Fatalf("the thread went from %d to %d messages, want one entry more", before, len(th.Messages))
		}
	})
}

// A 429 from one platform pauses that platform only.
func TestRateLimitPausesOnlyThePlatformThatSentIt(t *testing.T) {
	x := newChatSetup(t, storetest.New(t, "sqlite"))
	x.slack.FailNext("chat.postMessage", 1, 429, 30)
	c := x.posted(t)
	if n := len(x.slack.Messages("C0LETTINGS")); n != 0 {
		t.Fatalf("%d Slack messages through a 429", n)
	}
	x.discordCard(t, c.ID) // Discord carried on
	x.clock.Advance(30 * time.Second)
	x.flush(t)
	x.slackCard(t, c.ID)
	if n := x.slack.Calls("conversations.history"); n != 0 {
		t.Errorf("%d history reads: a 429 posts nothing, so the re-run need not search", n)
	}
}
