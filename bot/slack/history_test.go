package slack_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/bot/chat"
	rbslack "ringback/bot/slack"
	"ringback/bot/slack/slackstandin"
)

// After claims lapse, many rows of one channel look for their earlier
// attempts' posts at once. They share reads of the channel's history (Slack
// allows conversations.history about 50 times a minute), and none is
// answered by a read begun before its post landed: a search arriving while
// a read is under way waits for the next one.
func TestSearchesOfAChannelShareItsHistoryReads(t *testing.T) {
	standin := slackstandin.New("xoxb-history")
	standin.AddChannel("C0LETTINGS", "lettings")
	// The first history read is held after Slack read the channel and
	// before its answer arrives, until released.
	var (
		mu       sync.Mutex
		reads    int
		answered = make(chan struct{})
		release  = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/conversations.history") {
			standin.Handler().ServeHTTP(w, r)
			return
		}
		mu.Lock()
		reads++
		first := reads == 1
		mu.Unlock()
		rec := httptest.NewRecorder()
		standin.Handler().ServeHTTP(rec, r)
		if first {
			close(answered)
			<-release
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	a := rbslack.New("xoxb-history", "", srv.URL+"/", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	card := cards()["card_open"]

	// Cards 1 to 20 were posted ten minutes ago, a second apart.
	var clock sync.Mutex
	now := time.Now().Add(-10 * time.Minute)
	standin.SetClock(func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
	start := now.Add(-time.Second)
	posted := map[string]string{}
	post := func(key string) time.Time {
		t.Helper()
		clock.Lock()
		now = now.Add(time.Second)
		before := now.Add(-time.Millisecond)
		clock.Unlock()
		ref, err := a.PostCard(ctx, "C0LETTINGS", card, key)
		if err != nil {
			t.Fatal(err)
		}
		posted[key] = ref.ID
		return before
	}
	for i := 1; i <= 20; i++ {
		post(fmt.Sprintf("card:%d", i))
	}

	type found struct {
		key string
		ref chat.MessageRef
		ok  bool
		err error
	}
	results := make(chan found, 32)
	search := func(key string, since time.Time) {
		ref, ok, err := a.Find(ctx, "C0LETTINGS", key, since)
		results <- found{key, ref, ok, err}
	}
	// A search reads the history; card:21 lands after Slack read it.
	go search("card:1", start)
	<-answered
	clock.Lock()
	now = time.Now()
	clock.Unlock()
	since21 := post("card:21")
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
		case posts && f.ref != (chat.MessageRef{Channel: "C0LETTINGS", ID: want}):
			t.Errorf("%s found at %+v, posted at %s", f.key, f.ref, want)
		}
	}
	// Two reads: the one under way and the one the others joined. A search
	// arriving late on a loaded machine may need a third.
	if n := standin.Calls("conversations.history"); n < 2 || n > 3 {
		t.Errorf("22 searches read the history %d times, want 2 (3 at most)", n)
	}
}
