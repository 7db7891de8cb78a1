package slack_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/bot/chat/chattest"
	rbslack "ringback/bot/slack"
	"ringback/bot/slack/slackstandin"
)

// After claims lapse, many rows of one channel look for their earlier
// attempts' posts at once. They share reads of the channel's history (Slack
// allows conversations.history about 50 times a minute), and none is
// answered by a read begun before its post landed.
func TestSearchesOfAChannelShareItsHistoryReads(t *testing.T) {
	standin := slackstandin.New("xoxb-history")
	standin.AddChannel("C0LETTINGS", "lettings")
	var clock sync.Mutex
	var now time.Time
	standin.SetClock(func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
	held := chattest.HoldFirstRead(standin.Handler(), func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/conversations.history")
	})
	srv := httptest.NewServer(held)
	t.Cleanup(srv.Close)
	a := rbslack.New("xoxb-history", "", srv.URL+"/", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	card := cards()["card_open"]
	chattest.SearchWave{
		Channel: "C0LETTINGS",
		Post: func(key string, at time.Time) string {
			clock.Lock()
			now = at
			clock.Unlock()
			ref, err := a.PostCard(t.Context(), "C0LETTINGS", card, key)
			if err != nil {
				t.Fatal(err)
			}
			return ref.ID
		},
		Find: a.Find,
		Held: held,
	}.Play(t)
}
