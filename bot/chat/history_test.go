package chat_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ringback/bot/chat"
)

type readFunc = func(ctx context.Context, since time.Time, each func(string) bool) error

// pages reads a history of pages, counting the pages it read, and failing
// the page at failAt (1-based; 0: none).
func pages(history [][]string, read *int, failAt int) readFunc {
	return func(ctx context.Context, since time.Time, each func(string) bool) error {
		for i, page := range history {
			if err := ctx.Err(); err != nil {
				return err // as the platform client fails on an ended context
			}
			*read++
			if i+1 == failAt {
				return errors.New("rate limited")
			}
			for _, m := range page {
				if each(m) {
					return nil
				}
			}
		}
		return nil
	}
}

func is(want string) func(string) bool { return func(m string) bool { return m == want } }

// underWay starts a read of C1 and holds it once begun, so that the
// searches that come meanwhile gather for the next read; release lets it
// end.
func underWay(reads *chat.HistoryReads[string]) (release func()) {
	held, began := make(chan struct{}), make(chan struct{})
	go func() {
		_, _, _ = reads.Find(context.Background(), "C1", time.Now(), is("card:1"), func(context.Context, time.Time, func(string) bool) error {
			close(began)
			<-held
			return nil
		})
	}()
	<-began
	return func() { close(held) }
}

type found struct {
	m   string
	ok  bool
	err error
}

// search looks in C1 for key, in the background.
func search(reads *chat.HistoryReads[string], ctx context.Context, key string, read readFunc) <-chan found {
	res := make(chan found, 1)
	go func() {
		m, ok, err := reads.Find(ctx, "C1", time.Now(), is(key), read)
		res <- found{m, ok, err}
	}()
	return res
}

// A read pages on only until every search of it has found its post, as one
// search's own read did; a failure past a search's post is not its
// failure.
func TestASharedReadStopsOnceEverySearchFoundItsPost(t *testing.T) {
	history := [][]string{{"card:1", "card:2"}, {"card:3", "card:4"}, {"card:5", "card:6"}}
	var reads chat.HistoryReads[string]
	n := 0
	if m, ok, err := reads.Find(context.Background(), "C1", time.Now(), is("card:2"), pages(history, &n, 0)); !ok || err != nil || m != "card:2" || n != 1 {
		t.Fatalf("card:2: %q %v %v after %d pages, want it after 1", m, ok, err, n)
	}
	n = 0
	if _, ok, err := reads.Find(context.Background(), "C1", time.Now(), is("card:9"), pages(history, &n, 0)); ok || err != nil || n != 3 {
		t.Fatalf("card:9, never posted: %v %v after %d pages, want not found after 3", ok, err, n)
	}

	// Two searches gather while a read is under way; their read fails on
	// the third page, past card:3 and before card:5.
	release := underWay(&reads)
	n = 0
	card3 := search(&reads, context.Background(), "card:3", pages(history, &n, 3))
	card5 := search(&reads, context.Background(), "card:5", pages(history, &n, 3))
	time.Sleep(100 * time.Millisecond)
	release()
	if got := <-card3; !got.ok || got.err != nil || got.m != "card:3" {
		t.Errorf("card:3, before the failing page: %q %v %v", got.m, got.ok, got.err)
	}
	if got := <-card5; got.ok || got.err == nil {
		t.Errorf("card:5, on the failing page: %v %v, want the failure", got.ok, got.err)
	}
	if n != 3 {
		t.Errorf("the joined read read %d pages, want 3", n)
	}
}

// A read gathers the searches that come while the read before it is under
// way; the one that began gathering (and so leads it) may give up before it
// runs, as a row whose claim lapsed does: after another search joined it,
// or before any did. Either way the read runs for the search that joined,
// whole.
func TestASharedReadOutlivesTheSearchThatLedIt(t *testing.T) {
	for _, c := range []struct {
		name          string
		leaderFirst   bool // the leader gives up before the other search joins
		wantJoinedMsg string
	}{
		{"the leader gives up after a search joined", false, "the search that joined a read whose leader gave up"},
		{"the leader gives up before any search joined", true, "a search that joined after its read's leader gave up"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var reads chat.HistoryReads[string]
			n := 0
			platform := pages([][]string{{"card:1", "card:2"}}, &n, 0)
			release := underWay(&reads)
			leader, giveUp := context.WithCancel(context.Background())
			led := search(&reads, leader, "card:1", platform) // leads the next read
			time.Sleep(50 * time.Millisecond)
			if c.leaderFirst {
				giveUp()
				time.Sleep(50 * time.Millisecond)
			}
			joined := search(&reads, context.Background(), "card:2", platform)
			time.Sleep(50 * time.Millisecond)
			giveUp()
			release()
			if got := <-joined; got.err != nil || !got.ok || got.m != "card:2" {
				t.Fatalf("%s: %q %v %v", c.wantJoinedMsg, got.m, got.ok, got.err)
			}
			<-led
		})
	}
}

// A read ends once no search waits for it (the replica shuts down), rather
// than page on for nobody.
func TestASharedReadEndsOnceNoSearchWaits(t *testing.T) {
	var reads chat.HistoryReads[string]
	ended := make(chan struct{})
	never := func(ctx context.Context, since time.Time, each func(string) bool) error {
		<-ctx.Done() // a platform that never answers
		close(ended)
		return ctx.Err()
	}
	release := underWay(&reads)
	ctx, shutDown := context.WithCancel(context.Background())
	gaveUp := search(&reads, ctx, "card:2", never)
	time.Sleep(50 * time.Millisecond)
	shutDown()
	release()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the read went on with no search waiting for it")
	}
	if got := <-gaveUp; got.err == nil {
		t.Fatal("a search given up reported no failure")
	}
}
