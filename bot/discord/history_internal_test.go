package discord

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"ringback/bot/chat/chattest"
)

// After claims lapse, many rows of one channel look for their earlier
// attempts' posts at once. They share reads of the channel's messages
// (Discord allows a few a second), and none is answered by a read begun
// before its post landed.
func TestSearchesOfAChannelShareItsMessageReads(t *testing.T) {
	type message struct {
		ID      string `json:"id"`
		Channel string `json:"channel_id"`
		Content string `json:"content"`
	}
	var (
		mu   sync.Mutex
		msgs []message // oldest first
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
	// newest first.
	held := chattest.HoldFirstRead(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		mu.Lock()
		var page []message
		for _, m := range msgs {
			if id, _ := strconv.ParseInt(m.ID, 10, 64); id > after && len(page) < 100 {
				page = append(page, m)
			}
		}
		mu.Unlock()
		slices.Reverse(page)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	}), func(r *http.Request) bool {
		return r.Method == http.MethodGet && r.URL.Path == "/api/v9/channels/C1/messages"
	})
	srv := httptest.NewServer(held)
	t.Cleanup(srv.Close)
	a := New("token", "app", srv.URL, nil, map[string]string{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	chattest.SearchWave{Channel: "C1", Post: post, Find: a.Find, Held: held}.Play(t)
}
