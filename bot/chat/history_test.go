package chat_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot/chat"
)

// pages reads a history of pages, counting the pages it read, and failing
// the page at failAt (1-based; 0: none).
func pages(history [][]string, read *int, failAt int) func(ctx context.Context, since time.Time, each func(string) bool) error {
	return func(ctx context.Context, since time.Time, each func(string) bool) error {
		for i, page := range history {
			if err := ctx.Err(); err != nil {
				return err
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
	held, began := make(chan struct{}), make(chan struct{})
	go func() {
		_, _, _ = reads.Find(context.Background(), "C1", time.Now(), is("card:1"), func(ctx context.Context, since time.Time, each func(string) bool) error {
			close(began)
			<-held
			return nil
		})
	}()
	<-began
	type result struct {
		m   string
		ok  bool
		err error
	}
	results := map[string]chan result{"card:3": make(chan result, 1), "card:5": make(chan result, 1)}
	n = 0
	for key, res := range results {
		go func() {
			m, ok, err := reads.Find(context.Background(), "C1", time.Now(), is(key), pages(history, &n, 3))
			res <- result{m, ok, err}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(held)
	if got := <-results["card:3"]; !got.ok || got.err != nil || got.m != "card:3" {
		t.Errorf("card:3, before the failing page: %q %v %v", got.m, got.ok, got.err)
	}
	if got := <-results["card:5"]; got.ok || got.err == nil {
		t.Errorf("card:5, on the failing page: %v %v, want the failure", got.ok, got.err)
	}
	if n != 3 {
		t.Errorf("the joined read read %d pages, want 3", n)
	}
}

// A read gathers the searches that come while the read before it is under
// way; the one that began gathering (and so leads it) may give up before
// it runs, as a row whose claim lapsed does. The read still runs for the
// others, whole.
func TestASharedReadOutlivesTheSearchThatLedIt(t *testing.T) {
	var reads chat.HistoryReads[string]
	held := make(chan struct{})
	began := make(chan struct{}, 2)
	read := func(ctx context.Context, since time.Time, each func(string) bool) error {
		began <- struct{}{}
		select {
		case <-held:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			return err // as the platform client fails on an ended context
		}
		for _, m := range []string{"card:1", "card:2"} {
			if each(m) {
				return nil
			}
		}
		return nil
	}
	done := make(chan error, 3)
	go func() { // the read under way
		_, _, err := reads.Find(context.Background(), "C1", time.Now(), is("card:1"), read)
		done <- err
	}()
	<-began
	leader, giveUp := context.WithCancel(context.Background())
	go func() { // leads the next read, and gives up before it runs
		_, _, err := reads.Find(leader, "C1", time.Now(), is("card:1"), read)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	type result struct {
		m   string
		ok  bool
		err error
	}
	joined := make(chan result, 1)
	go func() {
		m, ok, err := reads.Find(context.Background(), "C1", time.Now(), is("card:2"), read)
		joined <- result{m, ok, err}
	}()
	time.Sleep(50 * time.Millisecond)
	giveUp()
	close(held)

	if got := <-joined; got.err != nil || !got.ok || got.m != "card:2" {
		t.Fatalf("the search that joined a read whose leader gave up: %q %v %v", got.m, got.ok, got.err)
	}
	for range 2 {
		<-done
	}
}

// A read ends once no search waits for it (the replica shuts down), rather
// than page on for nobody.
func TestASharedReadEndsOnceNoSearchWaits(t *testing.T) {
	var reads chat.HistoryReads[string]
	var calls atomic.Int32
	held, began, ended := make(chan struct{}), make(chan struct{}), make(chan struct{})
	read := func(ctx context.Context, since time.Time, each func(string) bool) error {
		if calls.Add(1) == 1 {
			close(began)
			<-held
			return nil
		}
		<-ctx.Done() // a platform that never answers
		close(ended)
		return ctx.Err()
	}
	go func() { _, _, _ = reads.Find(context.Background(), "C1", time.Now(), is("card:1"), read) }()
	<-began
	ctx, shutDown := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, _, err := reads.Find(ctx, "C1", time.Now(), is("card:2"), read)
		gaveUp <- err
	}()
	time.Sleep(50 * time.Millisecond)
	shutDown()
	close(held)
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the read went on with no search waiting for it")
	}
	if err := <-gaveUp; err == nil {
		t.Fatal("a search given up reported no failure")
	}
}
