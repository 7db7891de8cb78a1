package chat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"ringback/bot/chat"
)

// A read gathers the searches that come while the read before it is under
// way; the one that began gathering (and so leads it) may give up before
// it runs, as a row whose claim lapsed does. The read still runs for the
// others, whole.
func TestASharedReadOutlivesTheSearchThatLedIt(t *testing.T) {
	var reads chat.HistoryReads[string]
	held := make(chan struct{})
	began := make(chan struct{}, 2)
	read := func(ctx context.Context, since time.Time) ([]string, error) {
		began <- struct{}{}
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return []string{"card:1", "card:2"}, nil
	}
	done := make(chan error, 3)
	go func() { // the read under way
		_, err := reads.Read(context.Background(), "C1", time.Now(), read)
		done <- err
	}()
	<-began
	leader, giveUp := context.WithCancel(context.Background())
	go func() { // leads the next read, and gives up before it runs
		_, err := reads.Read(leader, "C1", time.Now(), read)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	type result struct {
		msgs []string
		err  error
	}
	joined := make(chan result, 1)
	go func() {
		msgs, err := reads.Read(context.Background(), "C1", time.Now(), read)
		joined <- result{msgs, err}
	}()
	time.Sleep(50 * time.Millisecond)
	giveUp()
	close(held)

	got := <-joined
	if got.err != nil || !slices.Equal(got.msgs, []string{"card:1", "card:2"}) {
		t.Fatalf("the search that joined a read whose leader gave up: %q, %v", got.msgs, got.err)
	}
	for range 2 {
		<-done
	}
}
