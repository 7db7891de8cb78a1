package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"ringback/bot/chat"
)

// After claims lapse, many rows of one channel look for their earlier
// attempts' posts at once. They share reads of the channel's messages
// (Discord allows a few a second), and none is answered by a read begun
// before its post landed: a search arriving while a read is under way
// waits for the next one.
func TestSearchesOfAChannelShareItsMessageReads(t *testing.T) {
	type message struct {
		ID      string `json:"id"`
		Channel string `json:"channel_id"`
		Content string `json:"content"`
	}
	var (
		mu       sync.Mutex
		msgs     []message // oldest first
		reads    int
		answered = make(chan struct{})
		release  = make(chan struct{})
	)
	snowflake := func(at time.Time) string {
		id, _ := strconv.ParseInt(snowflakeAt(at), 10, 64)
		return strconv.FormatInt(id+1, 10)
	}
	post := func(key string, at time.Time) string {
		mu.Lock()
		defer mu.Unlock()
		m := message{ID: snowflake(at), Channel: "C1", Content: "Missed call" + marker(key)}
		msgs = append(msgs, m)
		return m.ID
	}
	// Discord's answer to GET messages?after=: the 100 just after it,
	// newest first. The first read is held once Discord has read the
	// channel, until released.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v9/channels/C1/messages" {
			http.NotFound(w, r)
			return
		}
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		mu.Lock()
		reads++
		first := reads == 1
		var page []message
		for _, m := range msgs {
			if id, _ := strconv.ParseInt(m.ID, 10, 64); id > after && len(page) < 100 {
				page = append(page, m)
			}
		}
		mu.Unlock()
		slices.Reverse(page)
		body, _ := json.Marshal(page)
		if first {
			close(answered)
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	a := New("token", "app", srv.URL, nil, map[string]string{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	// Cards 1 to 20 were posted ten minutes ago, a second apart.
	base := time.Now().Add(-10 * time.Minute)
	start := base.Add(-time.Second)
	posted := map[string]string{}
	for i := 1; i <= 20; i++ {
		key := fmt.Sprintf("card:%d", i)
		posted[key] = post(key, base.Add(time.Duration(i)*time.Second))
	}
	type found struct {
		key string
		ref chat.MessageRef
		ok  bool
		err error
	}
	results := make(chan found, 32)
	search := func(key string, since time.Time) {
		ref, ok, err := a.Find(ctx, "C1", key, since)
		results <- found{key, ref, ok, err}
	}
	// A search reads the channel; card:21 lands after Discord read it.
	go search("card:1", start)
	<-answered
	since21 := time.Now().Add(-time.Second)
	posted["card:21"] = post("card:21", time.Now())
	// The next read gathers the searches that come meanwhile: one from
	// just before card:21 landed, and, from earlier, one for each other card.
	go search("card:21", since21)
	time.Sleep(50 * time.Millisecond)
	for i := 2; i <= 20; i++ {
		go search(fmt.Sprintf("card:%d", i), start)
	}
	go search("card:99", start) // never posted
	time.Sleep(300 * time.Millisecond)
	close(release)

	for range 22 {
		f := <-results
		want, posts := posted[f.key]
		switch {
		case f.err != nil:
			t.Errorf("%s: %v", f.key, f.err)
		case f.ok != posts:
			t.Errorf("%s: found %v, posted %v", f.key, f.ok, posts)
		case posts && f.ref != (chat.MessageRef{Channel: "C1", ID: want}):
			t.Errorf("%s found at %+v, posted at %s", f.key, f.ref, want)
		}
	}
	// Two reads: the one under way and the one the others joined. A search
	// arriving late on a loaded machine may need a third.
	mu.Lock()
	defer mu.Unlock()
	if reads < 2 || reads > 3 {
		t.Errorf("22 searches read the channel %d times, want 2 (3 at most)", reads)
	}
}
