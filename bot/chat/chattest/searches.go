// Package chattest holds what the chat adapters' tests share: a wave of
// searches for earlier attempts' posts, played against an adapter and a
// stand-in of its platform at the HTTP boundary.
package chattest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"ringback/bot/chat"
)

// HeldRead serves next, holding the platform's first history read (isRead)
// once the platform has read the channel, before its answer goes out, so
// that a post can land after the read and before its answer arrives.
type HeldRead struct {
	next     http.Handler
	isRead   func(r *http.Request) bool
	mu       sync.Mutex
	reads    int
	answered chan struct{}
	release  chan struct{}
}

// HoldFirstRead wraps next.
func HoldFirstRead(next http.Handler, isRead func(r *http.Request) bool) *HeldRead {
	return &HeldRead{next: next, isRead: isRead, answered: make(chan struct{}), release: make(chan struct{})}
}

func (h *HeldRead) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.isRead(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	h.mu.Lock()
	h.reads++
	first := h.reads == 1
	h.mu.Unlock()
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	if first {
		close(h.answered)
		<-h.release
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// Reads is how many history reads the platform served.
func (h *HeldRead) Reads() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reads
}

// SearchWave is many rows of one channel looking for their earlier
// attempts' posts at once, as after claims lapse.
type SearchWave struct {
	Channel string
	// Post posts a card named key on the platform, made at at, and returns
	// its message id.
	Post func(key string, at time.Time) string
	// Find is the adapter's.
	Find func(ctx context.Context, channel, key string, since time.Time) (chat.MessageRef, bool, error)
	// Held serves the platform's API to Find.
	Held *HeldRead
}

// Play checks that the searches share reads of the channel and that none
// is answered by a read begun before its post landed: a search arriving
// while a read is under way waits for the next one, which reads from the
// oldest time any of its searches asks for.
func (w SearchWave) Play(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	// Cards 1 to 20 were posted ten minutes ago, a second apart.
	base := time.Now().Add(-10 * time.Minute)
	start := base.Add(-time.Second)
	posted := map[string]string{}
	for i := 1; i <= 20; i++ {
		key := fmt.Sprintf("card:%d", i)
		posted[key] = w.Post(key, base.Add(time.Duration(i)*time.Second))
	}
	type found struct {
		key string
		ref chat.MessageRef
		ok  bool
		err error
	}
	results := make(chan found, 32)
	search := func(key string, since time.Time) {
		ref, ok, err := w.Find(ctx, w.Channel, key, since)
		results <- found{key, ref, ok, err}
	}
	// A search reads the channel; card:21 lands after the platform read it.
	go search("card:1", start)
	<-w.Held.answered
	since21 := time.Now().Add(-time.Second)
	posted["card:21"] = w.Post("card:21", time.Now())
	// The next read gathers the searches that come meanwhile: one from
	// just before card:21 landed, and, from earlier, one for each other card.
	go search("card:21", since21)
	time.Sleep(50 * time.Millisecond)
	for i := 2; i <= 20; i++ {
		go search(fmt.Sprintf("card:%d", i), start)
	}
	go search("card:99", start) // never posted
	time.Sleep(300 * time.Millisecond)
	close(w.Held.release)

	for range 22 {
		f := <-results
		want, posts := posted[f.key]
		switch {
		case f.err != nil:
			t.Errorf("%s: %v", f.key, f.err)
		case f.ok != posts:
			t.Errorf("%s: found %v, posted %v", f.key, f.ok, posts)
		case posts && f.ref != (chat.MessageRef{Channel: w.Channel, ID: want}):
			t.Errorf("%s found at %+v, posted at %s", f.key, f.ref, want)
		}
	}
	// Two reads: the one under way and the one the others joined. A search
	// arriving late on a loaded machine may need a third.
	if n := w.Held.Reads(); n < 2 || n > 3 {
		t.Errorf("22 searches read the channel %d times, want 2 (3 at most)", n)
	}
}
