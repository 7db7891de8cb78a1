package slack

import (
	"context"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// historyReads shares reads of a channel's history among the searches for
// earlier attempts' posts. After claims lapse (a replica killed, a database
// restart, an overloaded machine) many rows of one channel search at once,
// and each reading the history on its own cost a conversations.history
// call a page: Slack allows about 50 a minute (Tier 3), so a wave of
// re-runs became a 429 storm of Ringback's own, delaying every card behind
// it. A search joins the next read of its channel, never one under way: a
// read begun before the post it looks for landed may not hold it.
type historyReads struct {
	mu        sync.Mutex
	gathering map[string]*historyRead // channel → the next read, not begun: searches join it
	reading   map[string]*historyRead // channel → the read under way
}

// historyRead is one read of a channel's history from since, shared by
// every search that joined it before it began.
type historyRead struct {
	since time.Time // the oldest any of its searches asks for
	done  chan struct{}
	// posts is the ts of each of Ringback's posts read, by key; err is the
	// read's failure, every search's.
	posts map[string]string
	err   error
}

// find returns the ts of the post named key in channel since since, read
// by read (from the oldest since its searches ask for): ok is false when
// the history holds no such post.
func (h *historyReads) find(ctx context.Context, channel, key string, since time.Time,
	read func(ctx context.Context, since time.Time) (map[string]string, error)) (string, bool, error) {
	h.mu.Lock()
	if h.gathering == nil {
		h.gathering, h.reading = map[string]*historyRead{}, map[string]*historyRead{}
	}
	if r := h.gathering[channel]; r != nil {
		if since.Before(r.since) {
			r.since = since
		}
		h.mu.Unlock()
		select {
		case <-r.done:
			ts, ok := r.posts[key]
			return ts, ok, r.err
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	// This search leads the next read: it gathers searches until the read
	// under way ends (whatever this search's context does, as the searches
	// that join it wait on it), then runs it for all of them.
	r := &historyRead{since: since, done: make(chan struct{})}
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

	r.posts, r.err = read(ctx, since)

	h.mu.Lock()
	delete(h.reading, channel)
	h.mu.Unlock()
	close(r.done)
	ts, ok := r.posts[key]
	return ts, ok, r.err
}

// readPosts reads channel's history since since, page by page, for
// Ringback's posts: each one's ts by its key. Metadata comes back only
// with include_all_metadata.
func (a *Adapter) readPosts(ctx context.Context, channel string, since time.Time) (map[string]string, error) {
	posts := map[string]string{}
	params := &slack.GetConversationHistoryParameters{ChannelID: channel, Oldest: slackTS(since), Limit: 200, IncludeAllMetadata: true}
	for {
		res, err := a.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return nil, a.unread(channel, err)
		}
		for _, m := range res.Messages {
			if k, _ := m.Metadata.EventPayload["key"].(string); k != "" && namedBy(m, k) {
				posts[k] = m.Timestamp
			}
		}
		if !res.HasMore || res.ResponseMetaData.NextCursor == "" {
			return posts, nil
		}
		params.Cursor = res.ResponseMetaData.NextCursor
	}
}
