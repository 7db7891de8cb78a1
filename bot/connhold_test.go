package bot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ringback/store"
)

// connHold holds every connection of a store with transactions until each
// is freed, for the tests of who gets a connection first.
type connHold struct {
	t       *testing.T
	s       *store.Store
	caseID  int64
	then    func()
	holding atomic.Bool
	held    chan chan struct{}
	release chan struct{}
	stmts   sync.WaitGroup
	holders []chan struct{}
}

// holdConnections takes every connection of s with a transaction reading
// case caseID's card slot, each held until freed (free) or the test ends.
// A statement that gets its connection once they are all taken, one that
// queued behind them (queue), runs then and returns: it holds its
// connection as long as then takes.
func holdConnections(t *testing.T, s *store.Store, caseID int64, then func()) *connHold {
	h := &connHold{t: t, s: s, caseID: caseID, then: then, held: make(chan chan struct{}, 64), release: make(chan struct{})}
	t.Cleanup(func() {
		close(h.release)
		h.stmts.Wait()
	})
	h.holding.Store(true)
	// The store's own statements (a prepare) may hold a connection a
	// moment: one of ours waiting is not yet every connection taken.
	for {
		h.queue()
		deadline := time.Now().Add(5 * time.Second)
		for len(h.held) == 0 && s.ConnWaiting(store.ConnBackground) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("a transaction neither got a connection nor waited for one")
			}
			time.Sleep(time.Millisecond)
		}
		select {
		case mine := <-h.held:
			h.holders = append(h.holders, mine)
			continue
		case <-time.After(300 * time.Millisecond):
		}
		if len(h.held) == 0 {
			break
		}
		h.holders = append(h.holders, <-h.held)
	}
	// The last one waits: it is the first queued.
	h.holding.Store(false)
	return h
}

// queue starts a background statement: a holder while the connections
// are being taken, then one queued behind them.
func (h *connHold) queue() {
	ctx := context.Background()
	h.stmts.Go(func() {
		_ = h.s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.CardSlot(ctx, h.caseID, "slack"); err != nil {
				h.t.Error(err)
			}
			if !h.holding.Load() {
				h.then()
				return nil
			}
			mine := make(chan struct{})
			h.held <- mine
			select {
			case <-mine:
			case <-h.release:
			}
			return nil
		})
	})
}

// free lets one held connection go; the rest stay held.
func (h *connHold) free() {
	close(h.holders[0])
	h.holders = h.holders[1:]
}
