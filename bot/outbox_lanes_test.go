package bot_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// A case's thread entry waits for its first card instead of racing the
// card's row for the reservation: it starts only once the card is posted,
// on its first attempt, woken by the card's row being settled (not by the
// poll, seconds later).
func TestThreadEntryWaitsForItsCaseFirstCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := storetest.OpenCase(t, s, t0)
		clock, w := manualWorker(s)
		release := make(chan struct{})
		posted := make(chan time.Time, 1)
		entry := make(chan store.OutboxItem, 1)
		w.Handle("chat.card.slack", func(ctx context.Context, it store.OutboxItem) error {
			<-release
			if _, err := s.ReserveCard(ctx, c.ID, "slack", "C1", t0); err != nil {
				return err
			}
			posted <- time.Now()
			return s.SaveCard(ctx, c.ID, "slack", "C1", "1700000000.000100")
		})
		w.Handle("chat.thread.slack", func(ctx context.Context, it store.OutboxItem) error {
			if card, err := s.CardFor(ctx, c.ID, "slack"); err != nil || card.MessageID == "" {
				t.Errorf("the entry ran before its card was posted (%+v, %v)", card, err)
			}
			entry <- it
			return nil
		})
		for _, kind := range []string{"chat.card.slack", "chat.thread.slack"} {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: kind, Payload: 1, CaseID: c.ID}, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		go w.Run(ctx)
		select {
		case it := <-entry:
			t.Fatalf("the entry (attempt %d) started while the card's row ran", it.Attempts)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		within(t, posted, 5*time.Second, "the card was not posted")
		it := within(t, entry, time.Second, "the entry did not start within a second of its card")
		if it.Attempts != 1 {
			t.Errorf("the entry ran on attempt %d, want 1 (waiting spends none)", it.Attempts)
		}
	})
}

// A backlog of texts (after a Twilio outage, say) is taken a lane's worth
// at a time: one claim statement fills every free slot, and the lane's
// default concurrency carries a slow remote at hundreds of texts a second.
func TestTextBacklogFillsTheLaneInOneClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		clock, w := manualWorker(s)
		release := make(chan struct{})
		started := make(chan struct{}, 1000)
		var performed sync.Map
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			started <- struct{}{}
			<-release
			if _, again := performed.LoadOrStore(it.ID, true); again {
				t.Errorf("row %d performed twice", it.ID)
			}
			return nil
		})
		const backlog = 150
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for i := range backlog {
				if _, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: bot.KindSMS, DedupeKey: fmt.Sprint("textback:", i), Payload: i}, clock.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		lane := w.Concurrency(store.LaneSMS)
		counted := s.CountStatements()
		stopped := make(chan struct{})
		go func() { defer close(stopped); w.Run(ctx) }()
		defer func() { cancel(); <-stopped }()
		for i := range lane {
			within(t, started, 10*time.Second, fmt.Sprintf("%d texts started of a backlog of %d, want %d at once", i, backlog, lane))
		}
		s.StopCounting()
		if claims := counted.Total("UPDATE outbox SET state = 'running'"); claims > 2 {
			t.Errorf("%d claim statements to start %d texts, want one (two at most)", claims, lane)
		}
		close(release)
		for range backlog - lane {
			within(t, started, 10*time.Second, "the rest of the backlog did not start")
		}
	})
}

// While a remote's rate limit holds its lane (a 429's Retry-After, or the
// second Ringback waits after a failure), the worker claims none of the
// lane's rows: each would only be put back to wait, two statements per row
// due, over and over, on a database that recovery keeps busy. The rows run
// once the pause ends.
func TestAHeldLaneIsNotClaimed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		clock, w := manualWorker(s)
		pause := bot.NewPause(clock, "twilio")
		w.HoldLane(store.LaneSMS, pause)
		pause.Note(bot.RetryAfter(time.Minute, fmt.Errorf("429")))
		started := make(chan int64, 10)
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			started <- it.ID
			return nil
		})
		for i := range 3 {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: bot.KindSMS, DedupeKey: fmt.Sprint("textback:", i), Payload: i}, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		counted := s.CountStatements()
		stopped := make(chan struct{})
		go func() { defer close(stopped); w.Run(ctx) }()
		defer func() { cancel(); <-stopped }()
		select {
		case id := <-started:
			t.Fatalf("row %d started while its lane was held", id)
		case <-time.After(500 * time.Millisecond):
		}
		if claims := counted.Total("UPDATE outbox SET state = 'running'"); claims != 0 {
			t.Errorf("%d claim statements while the lane was held, want none", claims)
		}
		s.StopCounting()
		clock.Advance(time.Minute)
		for range 3 {
			within(t, started, 10*time.Second, "a row did not start once the pause ended")
		}
	})
}

// A text's statements (its acceptance record, its mark) wait for a
// connection as a caller's text, ahead of the chat backlog's, which stay
// background, whether the text was claimed or handed to the worker as its
// webhook wrote it: after an outage hundreds of chat statements wait for
// PostgreSQL's 20 connections, and a text behind them reached the caller
// seconds late. (The store's TestWebhooksGetAConnectionFirst shows the
// order the classes are served in.)
func TestTextsWaitForAConnectionAsTexts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		classes := make(chan [2]string, 3)
		for _, kind := range []string{bot.KindSMS, "chat.card.slack"} {
			w.Handle(kind, func(ctx context.Context, it store.OutboxItem) error {
				classes <- [2]string{it.DedupeKey, store.ClassOf(ctx).String()}
				return nil
			})
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: kind, Payload: 1, CaseID: c.ID}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		runningWorker(t, w)
		if handed, err := handOver(s, w, "handed", nil, nil); err != nil || !handed {
			t.Fatalf("handed %v, err %v", handed, err)
		}
		want := map[string]string{bot.KindSMS: "texts", "handed": "texts", "chat.card.slack": "background"}
		for range want {
			got := within(t, classes, 5*time.Second, "a row did not run")
			if want[got[0]] != got[1] {
				t.Errorf("row %s's statements wait for a connection as %s, want %s", got[0], got[1], want[got[0]])
			}
		}
	})
}

// A worker claims its texts ahead of the statements waiting for a
// connection in the background: when every connection is taken (after an
// outage, by a chat backlog), the look at the lanes and the claim that
// bring the waiting texts wait as texts do, and the texts' pool claims
// first in its round. A chat lane's claim, first in the round and waiting
// behind the backlog, held the texts' claim back with it.
func TestTextsAreClaimedAheadOfTheBackground(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := storetest.OpenCase(t, s, t0)
		w := bot.NewWorker(s, bot.SystemClock{}, "w", quiet)
		var mu sync.Mutex
		var order []string
		log := func(what string) {
			mu.Lock()
			order = append(order, what)
			mu.Unlock()
		}
		ran := make(chan struct{}, 1)
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			log("text")
			ran <- struct{}{}
			return nil
		})
		// A card due too: its lane's claim comes in the same round.
		w.Handle("chat.card.slack", func(ctx context.Context, it store.OutboxItem) error { return nil })
		for _, kind := range []string{bot.KindSMS, "chat.card.slack"} {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: kind, DedupeKey: kind, Payload: 1, CaseID: c.ID}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		// Every connection held by a transaction; the background
		// statements queued behind them each take one in turn, held a
		// moment, as a chat row's statements are: the text's run, begun
		// meanwhile, is not a race with it.
		conns := holdConnections(t, s, c.ID, func() {
			log("background")
			time.Sleep(20 * time.Millisecond)
		})
		waiting := func(n int, what string) {
			t.Helper()
			for deadline := time.Now().Add(5 * time.Second); s.ConnWaiting(store.ConnTexts)+s.ConnWaiting(store.ConnBackground) < n; {
				if time.Now().After(deadline) {
					t.Fatal(what)
				}
				time.Sleep(time.Millisecond)
			}
		}
		const queued = 6
		for range queued - 1 { // the fill's last one waits already
			conns.queue()
		}
		waiting(queued, "the background statements did not all queue")
		runningWorker(t, w)
		waiting(queued+1, "the worker's first statement did not queue")
		conns.free() // one connection frees; the rest stay held

		within(t, ran, 10*time.Second, "the text did not run")
		mu.Lock()
		defer mu.Unlock()
		if i := slices.Index(order, "text"); i > 2 {
			t.Errorf("the text ran after %d of the %d background statements that waited with it, want it claimed ahead of them: %v", i, queued, order)
		}
	})
}

// The heartbeats of rows claimed together go in one statement a beat, not
// one a row: after an outage one claim fills a lane's slots (256 a chat
// lane), and their beats were a statement a row every 2.7 s, in the queue
// the marks and webhooks wait in. Every claim is still kept: no row is
// taken over or stopped as lapsed.
func TestHeartbeatsOfRowsClaimedTogetherGoTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, w := manualWorker(s)
		w.SetLease(600 * time.Millisecond) // a beat every 200 ms
		const rows = 20
		release := make(chan struct{})
		started := make(chan struct{}, rows)
		ended := make(chan error, rows)
		w.Handle(bot.KindSMS, func(ctx context.Context, it store.OutboxItem) error {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			ended <- context.Cause(ctx)
			return context.Cause(ctx)
		})
		for i := range rows {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: bot.KindSMS, DedupeKey: fmt.Sprintf("text:%d", i), Payload: i}, t0); err != nil {
				t.Fatal(err)
			}
		}
		counter := s.CountStatements()
		defer s.StopCounting()
		go w.Run(ctx)
		for range rows {
			within(t, started, 5*time.Second, "the rows did not all start")
		}
		time.Sleep(700 * time.Millisecond) // three beats of every row
		beats := counter.Total("SET lease_until")
		close(release)
		for range rows {
			if err := within(t, ended, 5*time.Second, "a row did not end"); err != nil {
				t.Errorf("a row was stopped: %v", err)
			}
		}
		// A beat takes one statement, or a few when its rows' timers fire
		// spread out (a loaded machine: up to beatFlushes statements run at
		// once, then those queued meanwhile): 24 over three beats in one CI
		// run. A statement a row would be 60.
		if beats < 3 || beats >= 2*rows {
			t.Errorf("%d heartbeat statements for %d rows over three beats, want a few a beat, well under a statement a row (%d)", beats, rows, 3*rows)
		}
	})
}
