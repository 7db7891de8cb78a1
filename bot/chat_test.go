package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ringback/bot"
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
	discordDigest   = "1100000000000000009"
)

// chatSetup is the bot with both chat platforms, each behind its
// stand-in over real HTTP, performing through one outbox worker.
type chatSetup struct {
	*fixture
	slack   *slackstandin.Server
	discord *discordstandin.Server
	sa      *rbslack.Adapter
	da      *rbdiscord.Adapter
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
	// Discord's nonces expire on the bot's clock, so a test can outlast them.
	dc.SetClock(f.clock.Now)
	da := rbdiscord.New(discordToken, discordApp, dc.URL, f.bot, map[string]string{lettingsNum: discordLettings}, quiet,
		rbdiscord.WithDigestChannel(discordDigest))
	f.bot.RegisterChat(f.worker, da)
	return &chatSetup{fixture: f, slack: sl, discord: dc, sa: sa, da: da}
}

// eachChat runs test on each store with both platforms.
func eachChat(t *testing.T, test func(t *testing.T, x *chatSetup)) {
	storetest.Each(t, func(t *testing.T, s *store.Store) { test(t, newChatSetup(t, s)) })
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

// afterInFlight runs the rows again once a post whose answer never came
// can no longer land (30 s after it began): a re-run may now look for it.
func (x *chatSetup) afterInFlight(t *testing.T) {
	t.Helper()
	x.retry(t) // within the window: the re-run waits, posting nothing
	x.clock.Advance(31 * time.Second)
	x.flush(t)
}

// A worker that died while the platform held its card update leaves its
// row to another, whose render the held update may overwrite when it
// lands: the row's re-run queues a render for when it can no longer land,
// whether the row was taken over after its lease or released at once by
// a replica restarted in the dead one's seat.
func TestCardRenderedAgainAfterADeadWorkersUpdate(t *testing.T) {
	for _, how := range []string{"lease lapses", "seat restarts"} {
		t.Run(strings.ReplaceAll(how, " ", "_"), func(t *testing.T) {
			eachChat(t, func(t *testing.T, x *chatSetup) {
				ctx := context.Background()
				c, before := x.postedAsRendered(t)
				if _, err := x.bot.Claim(ctx, c.ID, alice); err != nil {
					t.Fatal(err)
				}
				// A worker claims the claim's Slack rows and dies while Slack
				// holds its card update.
				x.dies(t, bot.KindCard, how == "lease lapses")
				x.cardShowsCase(t, c.ID, "the takeover")
				x.olderRenderLands(t, c.ID, before) // the dead worker's update
			})
		})
	}
}

// postedAsRendered is a case whose card is posted, and the card as it was
// rendered then.
func (x *chatSetup) postedAsRendered(t *testing.T) (store.Case, bot.Card) {
	t.Helper()
	c := x.posted(t)
	card, err := x.bot.Card(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c, card
}

// olderRenderLands has Slack perform render, older than the case, on its
// card, as a request it held lands late; once no request can still land
// (30 s), the rows run and the card must show the case as it is.
func (x *chatSetup) olderRenderLands(t *testing.T, caseID int64, render bot.Card) {
	t.Helper()
	card := x.slackCard(t, caseID)
	if err := x.sa.UpdateCard(context.Background(), bot.MessageRef{Channel: "C0LETTINGS", ID: card.TS}, render); err != nil {
		t.Fatal(err)
	}
	x.clock.Advance(31 * time.Second)
	x.flush(t)
	x.cardShowsCase(t, caseID, "the end")
}

// cardShowsCase fails unless the case's Slack card shows the case as it is
// now (at: when).
func (x *chatSetup) cardShowsCase(t *testing.T, caseID int64, at string) {
	t.Helper()
	now, err := x.bot.Card(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(rbslack.CardBlocks(now))
	if got := x.slackCard(t, caseID).Blocks; string(got) != string(want) {
		t.Errorf("after %s the card shows\n%s\nwant the case as it is (claimed)\n%s", at, got, want)
	}
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
// platform to lose the answer to the claim's thread entry, runs the rows,
// then rerun for the entry's retry.
func (x *chatSetup) claimLosingAnswer(t *testing.T, caseID int64, lose func(), rerun func(t *testing.T)) {
	t.Helper()
	lose()
	if _, err := x.bot.Claim(context.Background(), caseID, alice); err != nil {
		t.Fatal(err)
	}
	x.flush(t)
	rerun(t)
}

// deadWorkersCard does what a worker that died after posting the case's
// card had done: reserved the card, begun the post and posted it through
// post; the card's id was never saved.
func (x *chatSetup) deadWorkersCard(t *testing.T, caseID int64, platform, channel string,
	post func(ctx context.Context, channel string, card bot.Card, key string) (bot.MessageRef, error)) {
	t.Helper()
	ctx := context.Background()
	card, err := x.bot.Card(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("card:%d", caseID)
	if ok, err := x.store.ReserveCard(ctx, caseID, platform, channel, x.clock.Now()); err != nil || !ok {
		t.Fatalf("reserve: %v %v", ok, err)
	}
	if err := x.store.StartChatPost(ctx, platform, key, 0, x.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := post(ctx, channel, card, key); err != nil {
		t.Fatal(err)
	}
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
		x.afterInFlight(t)
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
		c := x.missed(t, "CA1", callerNum)
		x.deadWorkersCard(t, c.ID, rbslack.Platform, "C0LETTINGS", x.sa.PostCard)
		x.flush(t) // the reservation is fresh: the rows wait
		if n := len(x.slack.Messages("C0LETTINGS")); n != 1 {
			t.Fatalf("%d messages while the dead worker's reservation held", n)
		}
		x.clock.Advance(61 * time.Second) // the reservation lapses
		x.flush(t)
		x.slackCard(t, c.ID)
	})
}

// A card adopted from a dead worker's attempt shows the case as it is
// when adopted, not as the dead worker rendered it: the change made
// meanwhile (a claim) queued a refresh that became the row that adopted
// the card, the row before it skipped for it, so no other row refreshes it
// (the chaos run's cards not showing their text-back delivered).
func TestAdoptedCardShowsTheCaseAsItIsNow(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		ctx := context.Background()
		c := x.missed(t, "CA1", callerNum)
		x.deadWorkersCard(t, c.ID, rbslack.Platform, "C0LETTINGS", x.sa.PostCard)
		if _, err := x.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		x.flush(t) // the reservation is fresh: the rows wait
		x.clock.Advance(61 * time.Second)
		x.flush(t)
		card := x.slackCard(t, c.ID)
		now, err := x.bot.Card(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(rbslack.CardBlocks(now))
		if string(card.Blocks) != string(want) {
			t.Errorf("the adopted card shows\n%s\nwant the case as it is now (claimed)\n%s", card.Blocks, want)
		}
	})
}

// A card update that got no answer may still be performed by the platform
// after the newer renders that follow it (a request it took before the
// client gave up): the card is rendered again once no such request can
// land, so that it ends showing the case as it is.
func TestCardRenderedAgainAfterAnUnansweredUpdate(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		ctx := context.Background()
		c, before := x.postedAsRendered(t)
		x.slack.LoseAnswerNext("chat.update", 1)
		if _, err := x.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		x.flush(t) // the claim's render reaches Slack; its answer does not
		x.retry(t)
		x.cardShowsCase(t, c.ID, "the retry")
		x.olderRenderLands(t, c.ID, before) // the update it had taken earlier
	})
}

// A thread entry whose answer was lost is found in the card's thread
// (conversations.replies) and not posted again.
func TestSlackEntryPostedButNotSavedIsAdopted(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		c := x.posted(t)
		card := x.slackCard(t, c.ID)
		before := len(x.slack.Thread("C0LETTINGS", card.TS))

		x.claimLosingAnswer(t, c.ID, func() { x.slack.LoseAnswerNext("chat.postMessage", 1) }, x.afterInFlight)
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

// The entry's re-run comes within the nonce's window (the nonce returns
// the message) or after it (its marker finds it).
func TestDiscordEntryPostedButNotSavedIsAdopted(t *testing.T) {
	for name, rerun := range map[string]func(x *chatSetup) func(*testing.T){
		"within the nonce window": func(x *chatSetup) func(*testing.T) { return x.retry },
		"after it":                func(x *chatSetup) func(*testing.T) { return x.pastTheNonce },
	} {
		t.Run(name, func(t *testing.T) {
			eachChat(t, func(t *testing.T, x *chatSetup) {
				c := x.missed(t, "CA1", callerNum)
				x.flush(t)
				card := x.discordCard(t, c.ID)
				th, _ := x.discord.Thread(card.ID)
				before := len(th.Messages)

				x.claimLosingAnswer(t, c.ID, func() { x.discord.LoseAnswerNext(discordstandin.RouteCreateMessage, 1) }, rerun(x))
				th, _ = x.discord.Thread(card.ID)
				if len(th.Messages) != before+1 {
					t.Fatalf("the thread went from %d to %d messages, want one entry more", before, len(th.Messages))
				}
			})
		})
	}
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
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
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
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
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
// once, with its chart, and its thread the tables with the CSV once.
func (x *chatSetup) oneDigest(t *testing.T) {
	t.Helper()
	var digests, threads int
	for _, m := range x.slack.Messages("C0DIGEST") {
		if strings.Contains(m.Text, "2026-W47") && strings.Contains(string(m.Blocks), `"slack_file"`) {
			digests++
			for _, r := range x.slack.Thread("C0DIGEST", m.TS) {
				if r.TS != m.TS && len(r.Files) == 1 {
					threads++
				}
			}
		}
	}
	if digests != 1 || threads != 1 {
		t.Errorf("Slack digest channel: %d digests with their chart and %d threads with the CSV, want one of each", digests, threads)
	}
	got := x.discord.Messages(discordDigest)
	if len(got) != 1 || !strings.Contains(got[0].Text(), "2026-W47") || len(got[0].Files) != 1 {
		t.Fatalf("Discord digest channel: %d messages, want the digest once, with its chart", len(got))
	}
	if th, ok := x.discord.Thread(got[0].ID); !ok || len(th.Messages) != 1 || len(th.Messages[0].Files) != 1 {
		t.Errorf("Discord digest thread: %+v, want the tables once, with the CSV", th)
	}
}

func TestDigestPostedButNotSavedIsPostedOnceWithItsThread(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
		x.losingBoth()
		x.digestDue(t)
		x.flush(t)
		// The re-run adopts the post; the thread's upload answer is lost too.
		x.slack.LoseAnswerNext("files.completeUploadExternal", 1)
		x.discord.LoseAnswerNext(discordstandin.RouteCreateMessage, 1)
		x.pastTheNonce(t)
		x.pastTheNonce(t) // the thread's own retry
		x.oneDigest(t)
		if n := x.slack.Calls("files.completeUploadExternal"); n != 2 {
			t.Errorf("%d uploads; want the chart and the CSV once each (the re-runs found them)", n)
		}
		deadRows(t, s)
	})
}

// The process died after Slack took the digest and before anything was
// recorded: the re-run adopts the digest and queues its thread with the
// record, so the thread is neither lost nor the digest doubled.
func TestDigestOfADeadWorkerIsAdoptedAndItsThreadQueued(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
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
		x.afterInFlight(t)
		x.flush(t) // the thread's row
		x.oneDigest(t)
	})
}

// The process died after Discord took the card and before its id was
// saved, and its rows come back after Discord's nonce has expired: the card
// is found by its marker, and its thread still starts.
func TestDiscordCardFoundAfterTheNonceWindow(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		c := x.missed(t, "CA1", callerNum)
		x.deadWorkersCard(t, c.ID, rbdiscord.Platform, discordLettings, x.da.PostCard)
		x.pastTheNonce(t)
		posted := x.discordCard(t, c.ID)
		if th, ok := x.discord.Thread(posted.ID); !ok || len(th.Messages) == 0 {
			t.Errorf("no thread with entries under the adopted card: %+v", th)
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
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
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
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
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

// A row waiting for another worker's card post asks again soon while the
// reservation is fresh, and less often the longer it is held (a hung post,
// or a worker that died: its reservation lapses after a minute): every ask
// is a claim and a statement putting the row back, and after a replica
// holding many reservations died, these crowded out the texts.
func TestRowsWaitingForALongHeldCardReservationBackOff(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
		ctx := context.Background()
		for _, held := range []struct {
			caller string
			age    time.Duration
			want   time.Duration
		}{{callerNum, 0, 500 * time.Millisecond}, {"+447700900456", 8 * time.Second, 4 * time.Second}, {"+447700900789", 40 * time.Second, 10 * time.Second}} {
			c := x.missed(t, fmt.Sprint("CA", held.age), held.caller)
			if ok, err := s.ReserveCard(ctx, c.ID, rbslack.Platform, "C0LETTINGS", x.clock.Now().Add(-held.age)); err != nil || !ok {
				t.Fatalf("reserve: %v %v", ok, err)
			}
			x.flush(t)
			waiting := 0
			for _, it := range outbox(t, s, bot.KindCard+"."+rbslack.Platform) {
				if it.CaseID == nil || *it.CaseID != c.ID || it.State != "pending" {
					continue
				}
				waiting++
				if wait := it.RunAt.Sub(x.clock.Now()); wait != held.want {
					t.Errorf("a reservation held %v: the card row asks again after %v, want %v", held.age, wait, held.want)
				}
			}
			if waiting == 0 {
				t.Errorf("a reservation held %v: no card row of the case waits", held.age)
			}
		}
	})
}

// A worker lost its claim while its entry's post was on its way (the
// database restarted under its heartbeats, say): the row's next run must
// not search the thread before that post can have landed, or it posts a
// second copy when the first lands after the search.
func TestSlackEntryStillOnItsWayIsNotPostedTwice(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
		ctx := context.Background()
		c := x.posted(t)
		card := x.slackCard(t, c.ID)
		before := len(x.slack.Thread("C0LETTINGS", card.TS))
		if _, err := x.bot.Claim(ctx, c.ID, alice); err != nil {
			t.Fatal(err)
		}
		rows := outbox(t, s, bot.KindThread+"."+rbslack.Platform)
		row := rows[len(rows)-1]
		var e bot.Entry
		if err := row.Decode(&e); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("entry:%d", row.ID)
		if e.Key != "" {
			key = "entry:" + e.Key
		}
		// The first worker's attempt: begun, its call on the way.
		if err := s.StartChatPost(ctx, rbslack.Platform, key, row.ID, x.clock.Now()); err != nil {
			t.Fatal(err)
		}
		x.retry(t) // the row runs again under a new claim
		if th := x.slack.Thread("C0LETTINGS", card.TS); len(th) != before {
			t.Fatalf("the re-run posted while the first attempt's post could still land: %d entries, want %d", len(th), before)
		}
		// The first attempt's post lands.
		if _, err := x.sa.PostEntry(ctx, bot.MessageRef{Channel: "C0LETTINGS", ID: card.TS}, e, key); err != nil {
			t.Fatal(err)
		}
		x.clock.Advance(31 * time.Second)
		x.flush(t)
		if th := x.slack.Thread("C0LETTINGS", card.TS); len(th) != before+1 {
			t.Fatalf("the thread went from %d to %d entries, want the one entry", before, len(th))
		}
		if n := len(outbox(t, s, bot.KindThread+"."+rbslack.Platform)); n != len(rows) {
			t.Errorf("%d thread rows, want %d", n, len(rows))
		}
	})
}

// An edit of a thread entry sent by a worker that died while the platform
// held it, or one whose answer was lost, may land after the edits that
// follow (here escalation's next step, due at the same time); once it can
// no longer land, the entry is given its latest words again, whether the
// row was taken over after its lease, released at once by a replica
// restarted in the dead one's seat, or retried.
func TestThreadEntryEditedAgainAfterADeadWorkersEdit(t *testing.T) {
	for _, how := range []string{"lease lapses", "seat restarts", "answer lost"} {
		t.Run(strings.ReplaceAll(how, " ", "_"), func(t *testing.T) {
			eachChat(t, func(t *testing.T, x *chatSetup) {
				ctx := context.Background()
				_, err := x.bot.ReportCall(ctx, bot.CallReport{Provider: "twilio", SID: "CA1", From: callerNum, To: maintNum, Outcome: bot.CallMissed, Status: "no-answer"})
				if err != nil {
					t.Fatal(err)
				}
				x.flush(t)
				// Unclaimed after 15 minutes the channel is reminded; at 30
				// two steps are due at once, each editing the round's one
				// entry: the worker performing the first dies while Slack
				// holds its edit.
				x.clock.Advance(15 * time.Minute)
				x.escalate(t)
				x.flush(t)
				x.clock.Advance(15 * time.Minute)
				x.escalate(t)
				if how == "answer lost" {
					x.slack.LoseAnswerNext("chat.update", 1)
					x.flush(t) // the first edit is performed; its answer lost
					x.retry(t)
				} else {
					x.dies(t, bot.KindThread, how == "lease lapses")
				}
				steps := reminders(t, x.store)
				if len(steps) != 3 {
					t.Fatalf("%d escalation entries, want the reminder and two edits", len(steps))
				}
				x.entryReads(t, steps[2], "the takeover")
				// The dead worker's edit lands.
				post, err := x.store.ChatPostFor(ctx, rbslack.Platform, "entry:"+steps[1].Key)
				if err != nil {
					t.Fatal(err)
				}
				if err := x.sa.UpdateEntry(ctx, bot.MessageRef{Channel: post.Channel, ID: post.MessageID}, steps[1]); err != nil {
					t.Fatal(err)
				}
				x.clock.Advance(31 * time.Second)
				x.flush(t)
				x.entryReads(t, steps[2], "the end")
			})
		})
	}
}

// dies has a worker claim the Slack rows due, among them one of kind, and
// die while Slack holds them; its claim lapses (lapses) or its seat's next
// process releases it; the rows then run.
func (x *chatSetup) dies(t *testing.T, kind string, lapses bool) {
	t.Helper()
	ctx := context.Background()
	dying := store.OutboxClaim{Worker: "seat-1-dies", Now: x.clock.Now(), Lease: time.Hour, Limit: 10, Lanes: []string{store.LaneSlack}}
	if lapses {
		dying.Lease = 30 * time.Millisecond
	}
	rows, err := x.store.ClaimOutbox(ctx, dying)
	if err != nil || !slices.ContainsFunc(rows, func(it store.OutboxItem) bool { return it.Kind == kind+"."+rbslack.Platform }) {
		t.Fatalf("the dying worker claimed %+v (%v), want a row of kind %s", rows, err, kind)
	}
	if lapses {
		time.Sleep(100 * time.Millisecond) // the lease runs on the database's clock
	} else if n, err := x.store.ReleaseOutboxClaims(ctx, "seat-1-"); err != nil || n == 0 {
		t.Fatalf("released %d (%v)", n, err)
	}
	x.flush(t)
}

// escalate runs the timers as the leader does (twice: a step due queues
// its work, the next tick sees it done).
func (x *chatSetup) escalate(t *testing.T) {
	t.Helper()
	tick(t, x.bot)
	tick(t, x.bot)
}

// entryReads fails unless the Slack entry e names shows e's words (at:
// when).
func (x *chatSetup) entryReads(t *testing.T, e bot.Entry, at string) {
	t.Helper()
	post, err := x.store.ChatPostFor(context.Background(), rbslack.Platform, "entry:"+e.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range x.slack.Messages(post.Channel) {
		for _, r := range x.slack.Thread(post.Channel, m.TS) {
			if r.TS != post.MessageID {
				continue
			}
			if want := rbslack.EntryText(e); r.Text != want {
				t.Errorf("after %s the entry reads %q, want the latest words %q", at, r.Text, want)
			}
			return
		}
	}
	t.Fatalf("no message %s in %s's threads", post.MessageID, post.Channel)
}
