package chat

import (
	"context"
	"sync"
	"time"
)

// HistoryReads shares reads of a channel's history (or a thread's) among
// the searches for earlier attempts' posts (Chat.Find). After claims lapse
// (a replica killed, a database restart, an overloaded machine) many rows
// of one channel search at once, and each reading the history on its own
// cost a request a page: Slack allows conversations.history about 50 times
// a minute and Discord a channel's messages a few times a second, so a wave
// of re-runs became a rate-limit storm of Ringback's own, delaying every
// post behind it. A search joins the next read of its channel, never one
// under way: a read begun before the post it looks for landed may not hold
// it. M is the platform's message.
type HistoryReads[M any] struct {
	mu        sync.Mutex
	gathering map[string]*historyRead[M] // channel → the next read, not begun: searches join it
	reading   map[string]*historyRead[M] // channel → the read under way
}

// historyRead is one read of a channel's history from since, shared by
// every search that joined it before it began.
type historyRead[M any] struct {
	since time.Time      // the oldest any of its searches asks for
	wants []func(M) bool // each search's post, by the search's place
	done  chan struct{}  // closed once found, ok and err are set
	found []M            // each search's post, where ok
	ok    []bool
	err   error // the read's failure, every search's whose post it had not found
	// waiting counts its searches that have not given up; once the read
	// has begun (cancel set) it ends when none waits for it. A search may
	// join after all before it gave up: until it begins, a read waited for
	// by none is not over.
	waiting int
	cancel  context.CancelFunc
}

// Find looks in channel's history since since for the message want picks,
// in a read begun after this call: the one its channel's searches are
// gathering for, which begins once the read under way ends, from the
// oldest since any of them asks for. read reads the history from since,
// page by page, handing each message to each until it says that every
// search of the read has found its message (no more pages needed).
func (h *HistoryReads[M]) Find(ctx context.Context, channel string, since time.Time, want func(M) bool,
	read func(ctx context.Context, since time.Time, each func(M) (enough bool)) error) (M, bool, error) {
	h.mu.Lock()
	if h.gathering == nil {
		h.gathering, h.reading = map[string]*historyRead[M]{}, map[string]*historyRead[M]{}
	}
	if r := h.gathering[channel]; r != nil {
		if since.Before(r.since) {
			r.since = since
		}
		i := len(r.wants)
		r.wants = append(r.wants, want)
		r.waiting++
		h.mu.Unlock()
		select {
		case <-r.done:
			return r.result(i)
		case <-ctx.Done():
			h.giveUp(r)
			var none M
			return none, false, ctx.Err()
		}
	}
	// This search leads the next read: it gathers searches until the read
	// under way ends (whatever this search's context does, as the searches
	// that join it wait on it), then runs it for all of them.
	r := &historyRead[M]{since: since, wants: []func(M) bool{want}, done: make(chan struct{}), waiting: 1}
	stop := context.AfterFunc(ctx, func() { h.giveUp(r) })
	defer stop()
	h.gathering[channel] = r
	prev := h.reading[channel]
	h.mu.Unlock()
	if prev != nil {
		<-prev.done
	}
	// The read is every joined search's: it does not end with the context
	// of the one that leads it (its row's claim lapsed, say), only once no
	// search waits for it (a shutdown).
	readCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	h.mu.Lock()
	delete(h.gathering, channel)
	h.reading[channel] = r
	since, wants := r.since, r.wants // no search joins it from here
	if r.cancel = cancel; r.waiting == 0 {
		cancel()
	}
	h.mu.Unlock()

	r.found, r.ok = make([]M, len(wants)), make([]bool, len(wants))
	left := len(wants)
	r.err = read(readCtx, since, func(m M) bool {
		for i, w := range wants {
			if !r.ok[i] && w(m) {
				r.found[i], r.ok[i] = m, true
				left--
			}
		}
		return left == 0
	})

	h.mu.Lock()
	delete(h.reading, channel)
	h.mu.Unlock()
	close(r.done)
	return r.result(0)
}

// giveUp counts a search of r that stopped waiting for it, and ends r's
// read once none waits, if it has begun.
func (h *HistoryReads[M]) giveUp(r *historyRead[M]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.waiting--; r.waiting == 0 && r.cancel != nil {
		r.cancel()
	}
}

// result is the search at place i's: its message, or the read's failure
// when the read did not find it.
func (r *historyRead[M]) result(i int) (M, bool, error) {
	if r.ok[i] {
		return r.found[i], true, nil
	}
	return r.found[i], false, r.err
}
