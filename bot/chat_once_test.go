package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
	"ringback/bot/discord/discordstandin"
	rbslack "ringback/bot/slack"
	"ringback/store"
	"ringback/store/storetest"
)

// Every chat side effect, not only cards and thread entries, is made once
// when the platform took it and its answer never came back (a timeout, a
// crash before it was recorded), on Slack and on Discord, including a
// re-run after Discord's nonce has expired.

// pastTheNonce lets Discord's nonce window and the rows' backoff pass, and
// runs the rows again: only the post's marker can tell now.
func (x *chatSetup) pastTheNonce(t *testing.T) {
	t.Helper()
	x.clock.Advance(discordstandin.NonceWindow + time.Minute)
	x.flush(t)
}

// losingBoth has both platforms lose the answer to their next post.
func (x *chatSetup) losingBoth() {
	x.slack.LoseAnswerNext("chat.postMessage", 1)
	x.discord.LoseAnswerNext(discordstandin.RouteCreateMessage, 1)
}

// discordUser is a manager's Discord id: Discord DMs go to Discord ids.
const discordUser = "1100000000000000042"

func TestDMPostedButNotSavedIsSentOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		ctx := context.Background()
		// What an owner reminder queues, one per platform.
		for chat, user := range map[string]string{rbslack.Platform: alice.ID, rbdiscord.Platform: discordUser} {
			n := bot.Notice{User: user, Text: bot.Plain("⏰ no contact with the caller yet"), Confirm: false}
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: bot.KindDM + "." + chat, DedupeKey: "dm:" + chat, Payload: n}, x.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		x.losingBoth()
		x.flush(t)
		x.pastTheNonce(t)
		if got := x.slack.Messages(x.slack.DM(alice.ID)); len(got) != 1 {
			t.Errorf("Alice got %d Slack DMs, want 1", len(got))
		}
		if got := x.discord.DMs(discordUser); len(got) != 1 {
			t.Errorf("the manager got %d Discord DMs, want 1", len(got))
		} else if !strings.Contains(got[0].Content, "no contact with the caller yet") {
			t.Errorf("the Discord DM reads %q", got[0].Content)
		}
		deadRows(t, s)
	})
}

func TestQueueCheckPostedButNotSavedIsPostedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		x.clock.Set(time.Date(2026, 11, 17, 8, 46, 0, 0, time.UTC)) // Tue, after the 08:45 check
		x.losingBoth()
		tick(t, x.bot)
		x.flush(t)
		x.pastTheNonce(t)
		tick(t, x.bot) // a later tick queues nothing new
		x.flush(t)
		if got := x.slack.Messages("C0LETTINGS"); len(got) != 1 || !strings.Contains(got[0].Text, "Lettings queue at 08:45") {
			t.Errorf("Slack lettings channel: %d messages, want the one queue check: %+v", len(got), got)
		}
		if got := x.discord.Messages(discordLettings); len(got) != 1 || !strings.Contains(got[0].Text(), "Lettings queue at 08:45") {
			t.Errorf("Discord lettings channel: %d messages, want the one queue check", len(got))
		}
		deadRows(t, s)
	})
}

// digestDue sets the clock to the Monday the W47 digest falls due and
// queues it.
func (x *chatSetup) digestDue(t *testing.T) {
	t.Helper()
	x.clock.Set(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	tick(t, x.bot)
}

// oneDigest checks that each platform's digest channel holds the digest
// once, and Slack's its chart once.
func (x *chatSetup) oneDigest(t *testing.T) {
	t.Helper()
	var digests, charts int
	for _, m := range x.slack.Messages("C0DIGEST") {
		switch {
		case len(m.Files) > 0:
			charts++
		case strings.Contains(m.Text, "2026-W47"):
			digests++
		}
	}
	if digests != 1 || charts != 1 {
		t.Errorf("Slack digest channel: %d digests and %d charts, want one of each", digests, charts)
	}
	if got := x.discord.Messages(discordDigest); len(got) != 1 || !strings.Contains(got[0].Text(), "2026-W47") {
		t.Errorf("Discord digest channel: %d messages, want the digest once", len(got))
	}
}

func TestDigestPostedButNotSavedIsPostedOnceWithItsChart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		x.losingBoth()
		x.slack.LoseAnswerNext("files.completeUploadExternal", 1)
		x.digestDue(t)
		x.flush(t)
		x.pastTheNonce(t)
		x.pastTheNonce(t) // the chart's own retry
		x.oneDigest(t)
		if n := x.slack.Calls("files.completeUploadExternal"); n != 1 {
			t.Errorf("the chart was shared %d times; its re-run should have found it", n)
		}
		deadRows(t, s)
	})
}

// The process died after Slack took the digest and before anything was
// recorded: the re-run adopts the digest and queues its chart with the
// record, so the chart is neither lost nor the digest doubled.
func TestDigestOfADeadWorkerIsAdoptedAndItsChartQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		ctx := context.Background()
		x.digestDue(t)
		row := outbox(t, s, bot.KindDigest+"."+rbslack.Platform)[0]
		var job bot.DigestJob
		if err := row.Decode(&job); err != nil {
			t.Fatal(err)
		}
		d, err := x.bot.Digest(ctx, bot.Period(job), "")
		if err != nil {
			t.Fatal(err)
		}
		// What the worker that died had done: begun, posted.
		key := fmt.Sprintf("digest:%d", row.ID)
		if err := s.StartChatPost(ctx, rbslack.Platform, key, row.ID, x.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := x.sa.PostDigest(ctx, "C0DIGEST", job, d, key); err != nil {
			t.Fatal(err)
		}
		x.flush(t)
		x.flush(t) // the chart's row
		x.oneDigest(t)
	})
}

// The process died after Discord took the card and before its id was
// saved, and its rows come back after Discord's nonce has expired: the card
// is found by its marker, and its thread still starts.
func TestDiscordCardFoundAfterTheNonceWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		ctx := context.Background()
		c := x.missed(t, "CA1", callerNum)
		// What the worker that died had done: reserved, begun, posted.
		card, err := x.bot.Card(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("card:%d", c.ID)
		if ok, err := s.ReserveCard(ctx, c.ID, rbdiscord.Platform, discordLettings, x.clock.Now()); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
		if err := s.StartChatPost(ctx, rbdiscord.Platform, key, 0, x.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := x.da.PostCard(ctx, discordLettings, card, key); err != nil {
			t.Fatal(err)
		}
		x.pastTheNonce(t)
		posted := x.discordCard(t, c.ID)
		if th, ok := x.discord.Thread(posted.ID); !ok || len(th.Messages) == 0 {
			t.Errorf("no thread with entries under the adopted card: %+v", th)
		}
	})
}

func TestDiscordEntryFoundAfterTheNonceWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		c := x.missed(t, "CA1", callerNum)
		x.flush(t)
		card := x.discordCard(t, c.ID)
		th, _ := x.discord.Thread(card.ID)
		before := len(th.Messages)
		x.discord.LoseAnswerNext(discordstandin.RouteCreateMessage, 1)
		if _, err := x.bot.Claim(context.Background(), c.ID, alice); err != nil {
			t.Fatal(err)
		}
		x.flush(t)
		x.pastTheNonce(t)
		th, _ = x.discord.Thread(card.ID)
		if len(th.Messages) != before+1 {
			t.Fatalf("the thread went from %d to %d messages, want one entry more", before, len(th.Messages))
		}
	})
}

// deadRows fails the test if any outbox row gave up.
func deadRows(t *testing.T, s *store.Store) {
	t.Helper()
	dead, err := s.OutboxByState(context.Background(), store.OutboxDead, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range dead {
		t.Errorf("dead row %s: %s", it.Kind, it.LastError)
	}
}

// The leader's timers prune the records of posts whose rows are long done.
func TestTimersPruneOldChatPostRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		ctx := context.Background()
		c := x.missed(t, "CA1", callerNum)
		x.flush(t)
		key := fmt.Sprintf("card:%d", c.ID)
		tick(t, x.bot)
		if _, err := s.ChatPostFor(ctx, rbslack.Platform, key); err != nil {
			t.Fatalf("a fresh card's record: %v", err)
		}
		x.clock.Advance(bot.ChatPostRetention + time.Hour)
		tick(t, x.bot)
		for _, chat := range []string{rbslack.Platform, rbdiscord.Platform} {
			if p, err := s.ChatPostFor(ctx, chat, key); err == nil {
				t.Errorf("the %s card's record is kept after %s: %+v", chat, bot.ChatPostRetention, p)
			}
		}
	})
}

// Waiting for another worker that is posting a case's card costs the rows
// no attempts: however long it holds the card, they do not die, and once
// its reservation lapses the card is posted once.
func TestWaitingForACardReservationSpendsNoAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		x := newChatSetup(t, s)
		ctx := context.Background()
		c := x.missed(t, "CA1", callerNum)
		// A live worker elsewhere has just begun posting the Slack card.
		if ok, err := s.ReserveCard(ctx, c.ID, rbslack.Platform, "C0LETTINGS", x.clock.Now()); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
		for range 2 * store.DefaultMaxAttempts {
			x.clock.Advance(2 * time.Second)
			x.flush(t)
		}
		deadRows(t, s)
		for _, it := range outbox(t, s, bot.KindCard+"."+rbslack.Platform) {
			if it.Attempts > 1 {
				t.Errorf("the card row spent %d attempts waiting", it.Attempts)
			}
		}
		x.clock.Advance(time.Minute) // the other worker died: its reservation lapses
		x.flush(t)
		x.slackCard(t, c.ID)
		deadRows(t, s)
	})
}
