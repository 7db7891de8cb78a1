package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ringback/bot/chat"
	rbslack "ringback/bot/slack"
)

// slackEcho is chat.postMessage's answer as Slack gives it: the message it
// made comes back whole, blocks and all, here with an element type newer
// than the slack-go release Ringback is built with.
func slackEcho(method, channel, ts string) string {
	return fmt.Sprintf(`{"ok":true,"channel":%q,"ts":%q,"message":{"type":"message","subtype":"bot_message",
		"text":"Missed call","ts":%q,"bot_id":"B0RINGBACK","app_id":"A0RINGBACK",
		"bot_profile":{"id":"B0RINGBACK","name":"Ringback","icons":{"image_36":"https://a.slack-edge.com/x.png"}},
		"blocks":[{"type":"section","block_id":"head","text":{"type":"mrkdwn","text":"*Missed call*","verbatim":false}},
			{"type":"actions","block_id":"acts","elements":[
				{"type":"button","action_id":"claim","text":{"type":"plain_text","text":"Claim","emoji":true},"value":"42"},
				{"type":"agent_handoff_picker","action_id":"future","placeholder":{"type":"plain_text","text":"Hand to…"}}]}],
		"metadata":{"event_type":"ringback_card","event_payload":{"key":"card:42"}}},
		"response_metadata":{"warnings":["missing_charset"]},"method":%q}`, channel, ts, ts, method)
}

// Slack echoes every message it posts or edits, and its echo may hold what
// the slack-go release in use cannot read (an element type newer than it:
// "unsupported block element type"). The card was posted all the same, so
// the adapter says where, instead of an error that would have the outbox
// post it again; an edit likewise. Looking for an earlier attempt's post
// reads a channel where other apps post anything. A refusal is still one.
func TestCardPostedWhateverSlackEchoes(t *testing.T) {
	var posts, updates atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch {
		case r.URL.Path == "/chat.postMessage" && r.Form.Get("channel") == "C0GONE":
			fmt.Fprint(w, `{"ok":false,"error":"channel_not_found"}`)
		case r.URL.Path == "/chat.postMessage":
			posts.Add(1)
			fmt.Fprint(w, slackEcho("post", r.Form.Get("channel"), "1700000000.000100"))
		case r.URL.Path == "/conversations.history" || r.URL.Path == "/conversations.replies":
			// Another app's message with an element newer than slack-go,
			// then Ringback's card (or entry), found by its metadata.
			key := map[string]string{"/conversations.history": "card:42", "/conversations.replies": "entry:7"}[r.URL.Path]
			fmt.Fprintf(w, `{"ok":true,"has_more":false,"messages":[
				{"type":"message","ts":"1700000000.000300","text":"Deploy?","blocks":[{"type":"actions","elements":[
					{"type":"agent_handoff_picker","action_id":"x"}]}],
					"attachments":[{"id":1,"blocks":[{"type":"actions","elements":[{"type":"agent_handoff_picker","action_id":"y"}]}]}]},
				{"type":"message","ts":"1700000000.000100","text":"Missed call","blocks":[{"type":"actions","elements":[
					{"type":"agent_handoff_picker","action_id":"z"}]}],
					"metadata":{"event_type":"ringback_card","event_payload":{"key":%q}}}]}`, key)
		case r.URL.Path == "/chat.update":
			updates.Add(1)
			fmt.Fprint(w, slackEcho("update", r.Form.Get("channel"), r.Form.Get("ts")))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	a := rbslack.New("xoxb-echo", "", srv.URL+"/", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	card := cards()["card_open"]

	ref, err := a.PostCard(ctx, "C0LETTINGS", card, "card:42")
	if err != nil {
		t.Fatalf("a posted card reported as failed: %v", err)
	}
	if ref != (chat.MessageRef{Channel: "C0LETTINGS", ID: "1700000000.000100"}) || posts.Load() != 1 {
		t.Fatalf("card at %+v after %d posts, want C0LETTINGS/1700000000.000100 after 1", ref, posts.Load())
	}
	if err := a.UpdateCard(ctx, ref, card); err != nil || updates.Load() != 1 {
		t.Fatalf("an edited card reported as failed: %v (%d edits)", err, updates.Load())
	}
	// A re-run after a lost answer finds the post, whatever else the
	// channel and the thread hold.
	since := time.Unix(1700000000, 0)
	if found, ok, err := a.Find(ctx, "C0LETTINGS", "card:42", since); err != nil || !ok || found.ID != "1700000000.000100" {
		t.Fatalf("the card in the channel's history: %+v %v %v", found, ok, err)
	}
	if found, ok, err := a.FindEntry(ctx, ref, "entry:7", since); err != nil || !ok || found.ID != "1700000000.000100" {
		t.Fatalf("the entry in the card's thread: %+v %v %v", found, ok, err)
	}
	if _, ok, err := a.Find(ctx, "C0LETTINGS", "card:99", since); err != nil || ok {
		t.Fatalf("a card never posted found: %v %v", ok, err)
	}

	_, err = a.PostCard(ctx, "C0GONE", card, "card:43")
	if !errors.Is(err, chat.ErrChannelUnavailable) || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("a refused post: %v, want the channel unavailable", err)
	}
}

// BenchmarkPostCard posts a card to a Slack that answers with its echo, as
// chat.postMessage does: what a card costs Ringback's CPU on its side.
func BenchmarkPostCard(b *testing.B) {
	card := cards()["card_claimed"]
	blocks, err := json.Marshal(rbslack.CardBlocks(card))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"ok":true,"channel":"C0LETTINGS","ts":"1700000000.000100","message":{"type":"message","subtype":"bot_message",
			"text":"Missed call","ts":"1700000000.000100","bot_id":"B0RINGBACK","blocks":%s,
			"metadata":{"event_type":"ringback_card","event_payload":{"key":"card:42"}}}}`, blocks)
	}))
	b.Cleanup(srv.Close)
	a := rbslack.New("xoxb-echo", "", srv.URL+"/", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.PostCard(ctx, "C0LETTINGS", card, "card:42"); err != nil {
			b.Fatal(err)
		}
	}
}
