package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot"
	"ringback/bot/chat"
)

// newerComponents is a message component list with a type newer than the
// discordgo release Ringback is built with (18: a label), inside a row.
const newerComponents = `[{"type":1,"components":[{"type":18,"label":"Pick","component":{"type":3,"custom_id":"x","options":[]}}]},
	{"type":18,"label":"More"}]`

// Another bot's message in a line's channel may hold a component type newer
// than the discordgo release in use ("unknown component type"). Looking for
// an earlier attempt's post reads those messages, and finds Ringback's all
// the same (else every re-run failed and the row went dead); a post whose
// answer holds one is a post, not an error.
func TestFindWhateverTheChannelHolds(t *testing.T) {
	ours := "Missed call from +44 7700 900123" + marker("card:42")
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v9/channels/C1/messages":
			ourJSON, _ := json.Marshal(ours)
			fmt.Fprintf(w, `[{"id":"300","channel_id":"C1","content":"Deploy?","author":{"id":"B2","bot":true},"components":%s,
				"message_reference":{"message_id":"1"},"referenced_message":{"id":"1","channel_id":"C1","content":"","components":%s}},
				{"id":"200","channel_id":"C1","content":%s,"author":{"id":"B1","bot":true},"components":%s,"embeds":[]}]`,
				newerComponents, newerComponents, ourJSON, newerComponents)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v9/channels/C1/messages":
			posts.Add(1)
			fmt.Fprintf(w, `{"id":"400","channel_id":"C1","content":"x","components":%s}`, newerComponents)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	a := New("token", "app", srv.URL, nil, map[string]string{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	ref, found, err := a.Find(ctx, "C1", "card:42", time.Unix(1700000000, 0))
	if err != nil || !found || ref != (chat.MessageRef{Channel: "C1", ID: "200"}) {
		t.Fatalf("Ringback's card among newer components: %+v %v %v", ref, found, err)
	}
	if _, found, err := a.Find(ctx, "C1", "card:43", time.Unix(1700000000, 0)); err != nil || found {
		t.Fatalf("a card never posted: %v %v", found, err)
	}
	m, err := a.send(ctx, "C1", EntryMessage(bot.Entry{CaseID: 42, Kind: bot.EntryClaimed, Text: bot.Plain("called back")}), "entry:7")
	if err != nil || m.ID != "400" || posts.Load() != 1 {
		t.Fatalf("a post whose answer holds a newer component: %v %v (%d posts)", m, err, posts.Load())
	}
}
