package slack_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	rbslack "ringback/bot/slack"
	"ringback/internal/remote/remotetest"
)

// The outbox posts up to a lane's worth of cards at once, again and again.
// Each post leaves its connection for the next rather than opening a new
// one (against Slack: a TLS handshake per card) and closing it after.
func TestCardPostsKeepTheirConnections(t *testing.T) {
	srv, opened := remotetest.Server(t, 30*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, slackEcho("post", r.Form.Get("channel"), "1700000000.000100"))
	}))
	a := rbslack.New("xoxb-reuse", "", srv.URL+"/", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	card := cards()["card_open"]
	remotetest.Waves(t, 3, 16, func() error {
		_, err := a.PostCard(context.Background(), "C0LETTINGS", card, "card:42")
		return err
	})
	if n := opened.Load(); n > 20 {
		t.Fatalf("48 cards posted 16 at a time opened %d connections to Slack, want at most 20", n)
	}
}

// A card's post starts no goroutine of its own: http.Client's Timeout over
// the adapter's wrapping transport started two per post (a timer's watcher
// and Request.Cancel's), and on a 2-core machine each woke an idle CPU.
func TestCardPostStartsNoGoroutine(t *testing.T) {
	srv, _ := remotetest.Server(t, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, slackEcho("post", r.Form.Get("channel"), "1700000000.000100"))
	}))
	a := rbslack.New("xoxb-goroutines", "", srv.URL+"/", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	card := cards()["card_open"]
	per := remotetest.GoroutinesPerCall(t, 50, func() error {
		_, err := a.PostCard(context.Background(), "C0LETTINGS", card, "card:42")
		return err
	})
	// The stand-in's one per request, and a little for the rest of the process.
	if per > 1.5 {
		t.Fatalf("a card's post started %.1f goroutines, want at most 1.5 (the stand-in's 1)", per)
	}
}
