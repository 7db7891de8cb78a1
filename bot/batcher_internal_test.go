package bot

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"ringback/store"
)

// A batch's statement runs under the context of the row leading it: when
// that row's deadline ends it, the rows that asked meanwhile go in the next
// statement, led by the oldest of them under its own context, and are
// marked. Before, one row ran every batch under its own context, so a
// mark that timed out (a connection waited for after an outage) failed
// the marks of the up to 100 rows queued behind it, each of them then
// tried again.
func TestABatchOutlivingItsLeaderFailsOnlyItself(t *testing.T) {
	started := make(chan []store.OutboxItem, 4)
	b := &batcher[bool]{run: func(ctx context.Context, items []store.OutboxItem) (map[int64]bool, error) {
		started <- items
		if items[0].ID == 1 {
			<-ctx.Done() // the first statement waits until its leader gives up
			return nil, ctx.Err()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		held := map[int64]bool{}
		for _, it := range items {
			held[it.ID] = true
		}
		return held, nil
	}}
	leader, cancel := context.WithCancel(context.Background())
	results := make(map[int64]error)
	var mu sync.Mutex
	var wg sync.WaitGroup
	ask := func(ctx context.Context, id int64) {
		wg.Go(func() {
			held, err := b.do(ctx, store.OutboxItem{ID: id})
			if err == nil && !held {
				err = errors.New("not held")
			}
			mu.Lock()
			results[id] = err
			mu.Unlock()
		})
	}
	ask(leader, 1)
	if got := <-started; len(got) != 1 || got[0].ID != 1 {
		t.Fatalf("first statement for %v, want row 1", got)
	}
	ask(context.Background(), 2)
	ask(context.Background(), 3)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.queue)
		b.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rows 2 and 3 did not queue")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if !errors.Is(results[1], context.Canceled) {
		t.Errorf("row 1: %v, want its own context's end", results[1])
	}
	for _, id := range []int64{2, 3} {
		if results[id] != nil {
			t.Errorf("row %d: %v, want marked (the statement that timed out was row 1's)", id, results[id])
		}
	}
}
