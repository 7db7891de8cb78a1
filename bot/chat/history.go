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
	since time.Time // the oldest any of its searches asks for
	done  chan struct{}
	msgs  []M
	err   error // the read's failure, every search's
}

// Read returns channel's messages since since, or since earlier, as read
// by read in a read begun after this call: the one its channel's searches
// are gathering for, which begins once the read under way ends.
func (h *HistoryReads[M]) Read(ctx context.Context, channel string, since time.Time,
	read func(ctx context.Context, since time.Time) ([]M, error)) ([]M, error) {
	h.mu.Lock()
	if h.gathering == nil {
		h.gathering, h.reading = map[string]*historyRead[M]{}, map[string]*historyRead[M]{}
	}
	if r := h.gathering[channel]; r != nil {
		if since.Before(r.since) {
			r.since = since
		}
		h.mu.Unlock()
		select {
		case <-r.done:
			return r.msgs, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// This search leads the next read: it gathers searches until the read
	// under way ends (whatever this search's context does, as the searches
	// that join it wait on it), then runs it for all of them.
	r := &historyRead[M]{since: since, done: make(chan struct{})}
	h.gathering[channel] = r
	prev := h.reading[channel]
	h.mu.Unlock()
	if prev != nil {
		<-prev.done
	}
	h.mu.Lock()
	delete(h.gathering, channel)
	h.reading[channel] = r
	since = r.since
	h.mu.Unlock()

	// The read is every joined search's: it does not end with the context
	// of the one that leads it (its row's claim lapsed, say). The platform
	// client's timeout bounds each request.
	r.msgs, r.err = read(context.WithoutCancel(ctx), since)

	h.mu.Lock()
	delete(h.reading, channel)
	h.mu.Unlock()
	close(r.done)
	return r.msgs, r.err
}
