package discord

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot"
	"ringback/internal/remote/remotetest"
)

// The outbox posts to many lines' channels at once, again and again (each
// channel is its own rate-limit bucket, so they run side by side). Each
// post leaves its connection for the next rather than opening a new one
// (against Discord: a TLS handshake per post) and closing it after.
func TestPostsKeepTheirConnections(t *testing.T) {
	srv, opened := remotetest.Server(t, 30*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"400","channel_id":"C1","content":"x"}`)
	}))
	a := New("token", "app", srv.URL, nil, map[string]string{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var next atomic.Int32
	remotetest.Waves(t, 3, 16, func() error {
		channel := fmt.Sprintf("C%d", next.Add(1)%16)
		_, err := a.send(context.Background(), channel, EntryMessage(bot.Entry{CaseID: 42, Kind: bot.EntryClaimed, Text: bot.Plain("called back")}), "entry:7")
		return err
	})
	if n := opened.Load(); n > 20 {
		t.Fatalf("48 posts, 16 channels at a time, opened %d connections to Discord, want at most 20", n)
	}
}

// A post starts no goroutine of its own (http.Client's Timeout over the
// adapter's wrapping transport started two per post).
func TestPostStartsNoGoroutine(t *testing.T) {
	srv, _ := remotetest.Server(t, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"400","channel_id":"C1","content":"x"}`)
	}))
	a := New("token", "app", srv.URL, nil, map[string]string{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	per := remotetest.GoroutinesPerCall(t, 50, func() error {
		_, err := a.send(context.Background(), "C1", EntryMessage(bot.Entry{CaseID: 42, Kind: bot.EntryClaimed, Text: bot.Plain("called back")}), "entry:7")
		return err
	})
	// The stand-in's one per request, and a little for the rest of the process.
	if per > 1.5 {
		t.Fatalf("a post started %.1f goroutines, want at most 1.5 (the stand-in's 1)", per)
	}
}
