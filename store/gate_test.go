package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// A webhook's statement gets a connection before the outbox work waiting
// beside it, a caller's text before the rest of the outbox, in arrival
// order within each, and a lower class still gets a turn after every 8 of
// a higher one while it waits: on SQLite's one connection and on
// PostgreSQL's pool alike. Before, database/sql handed a freed connection
// to a waiter at random: under load a webhook waited behind a dozen outbox
// statements on SQLite and, on PostgreSQL, behind the hundreds of a chat
// backlog, until its 5 s ran out; and a text waited behind that backlog
// too, seconds after an outage.
func TestWebhooksGetAConnectionFirst(t *testing.T) {
	for _, tc := range []struct {
		name     string
		queue    []string // in arrival order
		want     []string // in the order they ran
		canceled string   // a waiter that gives up before its turn
	}{
		{
			name:  "webhook first",
			queue: []string{"outbox1", "outbox2", "outbox3", "webhook1", "outbox4", "webhook2"},
			want:  []string{"webhook1", "webhook2", "outbox1", "outbox2", "outbox3", "outbox4"},
		},
		{
			name:  "outbox not starved",
			queue: []string{"outbox1", "webhook1", "webhook2", "webhook3", "webhook4", "webhook5", "webhook6", "webhook7", "webhook8", "webhook9", "webhook10"},
			want:  []string{"webhook1", "webhook2", "webhook3", "webhook4", "webhook5", "webhook6", "webhook7", "webhook8", "outbox1", "webhook9", "webhook10"},
		},
		{
			name:  "texts before the rest",
			queue: []string{"outbox1", "text1", "outbox2", "webhook1", "text2", "outbox3"},
			want:  []string{"webhook1", "text1", "text2", "outbox1", "outbox2", "outbox3"},
		},
		{
			name:  "the rest not starved by texts",
			queue: []string{"outbox1", "text1", "text2", "text3", "text4", "text5", "text6", "text7", "text8", "text9", "text10"},
			want:  []string{"text1", "text2", "text3", "text4", "text5", "text6", "text7", "text8", "outbox1", "text9", "text10"},
		},
		{
			name:  "texts not starved by webhooks",
			queue: []string{"outbox1", "text1", "webhook1", "webhook2", "webhook3", "webhook4", "webhook5", "webhook6", "webhook7", "webhook8", "webhook9"},
			want:  []string{"webhook1", "webhook2", "webhook3", "webhook4", "webhook5", "webhook6", "webhook7", "webhook8", "text1", "webhook9", "outbox1"},
		},
		{
			name:     "a waiter gives up",
			queue:    []string{"outbox1", "webhook1", "outbox2", "webhook2"},
			canceled: "webhook1",
			want:     []string{"webhook2", "outbox1", "outbox2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				id := "INTEGER PRIMARY KEY AUTOINCREMENT"
				if s.Dialect() == "postgres" {
					id = "SERIAL PRIMARY KEY"
				}
				if _, err := s.DB().Exec(`CREATE TABLE turns (id ` + id + `, who TEXT NOT NULL)`); err != nil {
					t.Fatal(err)
				}
				insert := `INSERT INTO turns (who) VALUES (?)`
				// The statement is prepared in the background, in a turn of
				// its own: done before the waiters queue.
				if err := s.Exec(ctx, insert, "warm"); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "nothing waits or is being prepared", func() bool { return s.ConnWaitingAll() == 0 && s.PreparesInFlight() == 0 })
				var waits0 [3]store.ConnWaits // the warm-up's, and the store's opening
				for c := range waits0 {
					waits0[c] = s.ConnWaits(store.ConnClass(c))
				}
				// Every connection is held by a transaction; the first to end
				// frees one, which the waiters then take one after the other.
				holders := make([]chan struct{}, s.ConnSlots())
				var held, holding sync.WaitGroup
				for i := range holders {
					holders[i] = make(chan struct{})
					held.Add(1)
					holding.Go(func() {
						err := s.InTx(ctx, func(tx *store.Tx) error {
							if err := tx.Exec(ctx, insert, "holder"); err != nil {
								return err
							}
							held.Done()
							<-holders[i]
							return nil
						})
						if err != nil {
							t.Error(err)
						}
					})
				}
				held.Wait()
				// Ended however the test ends: a failed wait below must not
				// leave them holding locks the store's cleanup waits for.
				freed := make([]bool, len(holders))
				free := func(i int) {
					if !freed[i] {
						freed[i] = true
						close(holders[i])
					}
				}
				defer func() {
					for i := range holders {
						free(i)
					}
					holding.Wait()
				}()
				var cancel context.CancelFunc
				gaveUp := make(chan error, 1)
				queued := 0
				var waiters sync.WaitGroup
				for _, who := range tc.queue {
					wctx := ctx
					switch {
					case strings.HasPrefix(who, "webhook"):
						wctx = store.Foreground(ctx)
					case strings.HasPrefix(who, "text"):
						wctx = store.Texts(ctx)
					}
					if who == tc.canceled {
						wctx, cancel = context.WithCancel(wctx)
					}
					waiters.Go(func() {
						err := s.Exec(wctx, insert, who)
						if who == tc.canceled {
							gaveUp <- err
						} else if err != nil {
							t.Error(err)
						}
					})
					queued++
					waitFor(t, "the waiter queued", func() bool { return s.ConnWaitingAll() == queued })
				}
				if cancel != nil {
					cancel()
					if err := <-gaveUp; !errors.Is(err, context.Canceled) {
						t.Errorf("the waiter that gave up got %v, want context.Canceled", err)
					}
					queued--
					waitFor(t, "the waiter queued", func() bool { return s.ConnWaitingAll() == queued })
				}
				free(0)
				waiters.Wait()
				for i := range holders {
					free(i)
				}
				holding.Wait()
				var ran []string
				if err := s.DB().Select(&ran, `SELECT who FROM turns WHERE who NOT IN ('warm', 'holder') ORDER BY id`); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ran, tc.want) {
					t.Errorf("statements ran in the order %v, want %v", ran, tc.want)
				}
				// Every waiter is counted, the one that gave up included.
				var want [3]int64
				for _, who := range tc.queue {
					switch {
					case strings.HasPrefix(who, "webhook"):
						want[store.ConnForeground]++
					case strings.HasPrefix(who, "text"):
						want[store.ConnTexts]++
					default:
						want[store.ConnBackground]++
					}
				}
				for c := range want {
					w := s.ConnWaits(store.ConnClass(c))
					w.Count, w.Total = w.Count-waits0[c].Count, w.Total-waits0[c].Total
					if w.Count != want[c] || (want[c] > 0) != (w.Total > 0) {
						t.Errorf("%s waits counted: %+v, want %d, with time", store.ConnClass(c), w, want[c])
					}
				}
			})
		})
	}
}

// waitFor waits up to 10 s for cond, which says what.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("not so after 10 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A transaction whose code panics is rolled back and gives the connection
// up: on SQLite its turn would otherwise hold every later statement.
func TestAPanickingTransactionLeavesTheConnection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.DB().Exec(`CREATE TABLE turns (id INTEGER PRIMARY KEY, who TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v, want the transaction's own panic", p)
				}
			}()
			_ = s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.Exec(ctx, `INSERT INTO turns (id, who) VALUES (1, 'panicked')`); err != nil {
					t.Fatal(err)
				}
				panic("boom")
			})
		}()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.Exec(wctx, `INSERT INTO turns (id, who) VALUES (2, 'next')`); err != nil {
			t.Fatalf("the statement after the panic: %v", err)
		}
		var who []string
		if err := s.DB().Select(&who, `SELECT who FROM turns ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(who, []string{"next"}) {
			t.Errorf("rows %v, want only the next statement's: the panicking transaction rolled back", who)
		}
	})
}

// Close ends the statements being prepared in the background, and returns
// only once none runs: none touches the database (on SQLite, its files)
// after it. Before, one waiting for SQLite's connection outlived Close.
func TestCloseWaitsForBackgroundPrepares(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, storetest.URL(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	held, hold, holderDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(holderDone)
		_ = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.Exec(ctx, `SELECT 1`); err != nil {
				return err
			}
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	// A statement's first use starts its prepare, which waits for the
	// connection the transaction holds; the statement itself gives up.
	qctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- s.Exec(qctx, `SELECT 2`) }()
	waitFor(t, "a statement is being prepared", func() bool { return s.PreparesInFlight() == 1 })
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("the statement ran while the connection was held")
	}

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if n := s.PreparesInFlight(); n != 0 {
		t.Errorf("%d statements still being prepared after Close, want none", n)
	}
	close(hold)
	<-holderDone
}

// The time statements hold a connection is counted by their class, whole
// transactions included: what occupies the database, and on SQLite its
// one connection's busy time.
func TestConnectionsHeldAreTimedByClass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		before := map[store.ConnClass]time.Duration{}
		for _, c := range []store.ConnClass{store.ConnForeground, store.ConnTexts, store.ConnBackground} {
			before[c] = s.ConnHeld(c)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.OutboxCounts(ctx); err != nil {
				return err
			}
			time.Sleep(60 * time.Millisecond) // work inside the transaction: the connection is held
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		fg := store.Foreground(ctx)
		if _, err := s.OutboxCounts(fg); err != nil {
			t.Fatal(err)
		}
		bg, fgHeld, texts := s.ConnHeld(store.ConnBackground)-before[store.ConnBackground], s.ConnHeld(store.ConnForeground)-before[store.ConnForeground], s.ConnHeld(store.ConnTexts)-before[store.ConnTexts]
		if bg < 60*time.Millisecond {
			t.Errorf("the background transaction held its connection %v, want at least the 60 ms it worked inside it", bg)
		}
		if fgHeld <= 0 {
			t.Errorf("the foreground statement held its connection %v, want the time it ran", fgHeld)
		}
		if texts != 0 {
			t.Errorf("texts held a connection %v, want none: no text ran", texts)
		}
	})
}
