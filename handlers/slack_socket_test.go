package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	rbslack "ringback/bot/slack"
	"ringback/handlers"
)

// socketPeer plays Slack's side of Socket Mode: apps.connections.open hands
// out a WebSocket, on which it sends envelopes and collects the acks. The
// rest of the Web API is the Slack stand-in.
type socketPeer struct {
	conns chan *websocket.Conn
}

func newSocketPeer(t *testing.T, h *harness) (*httptest.Server, *socketPeer) {
	p := &socketPeer{conns: make(chan *websocket.Conn, 1)}
	var srv *httptest.Server
	// Slack's client sends Origin: https://api.slack.com.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer xapp-test" {
			w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
			return
		}
		w.Write([]byte(`{"ok":true,"url":"ws` + strings.TrimPrefix(srv.URL, "http") + `/link"}`))
	})
	mux.HandleFunc("/link", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0RINGBACK"}})
		p.conns <- c
	})
	mux.Handle("/", h.slack.Handler())
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, p
}

// send delivers one envelope and returns the ack's payload.
func (p *socketPeer) send(t *testing.T, c *websocket.Conn, envelope map[string]any) map[string]any {
	t.Helper()
	if err := c.WriteJSON(envelope); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var ack map[string]any
		if err := c.ReadJSON(&ack); err != nil {
			t.Fatalf("no ack for %s: %v", envelope["envelope_id"], err)
		}
		if ack["envelope_id"] == envelope["envelope_id"] {
			p, _ := ack["payload"].(map[string]any)
			return p
		}
	}
}

// Socket Mode and HTTP mode share one dispatcher: a Claim and /callbacks
// over the WebSocket do what they do over HTTP.
func TestSlackSocketMode(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		apiSrv, peer := newSocketPeer(t, h)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		adapter := rbslack.New(slackToken, "xapp-test", apiSrv.URL+"/", h.bot, log)
		adapter.Register(h.worker)
		dispatch := handlers.NewSlack(h.bot, adapter, log)
		dispatch.SetAsync(func(f func(ctx context.Context)) { f(context.Background()) })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			if err := dispatch.RunSocketMode(ctx, adapter.API()); err != nil && ctx.Err() == nil {
				t.Errorf("socket mode: %v", err)
			}
		}()
		var conn *websocket.Conn
		select {
		case conn = <-peer.conns:
		case <-time.After(10 * time.Second):
			t.Fatal("Socket Mode never connected")
		}
		defer conn.Close()

		h.missedCall("CAsock1", caller, lettings)
		h.flush()
		c := h.openCase(caller, lettings)
		msg, _ := h.card("C0LETTINGS")
		peer.send(t, conn, map[string]any{
			"envelope_id": "env-1", "type": "interactive", "accepts_response_payload": true,
			"payload": click("U0ALICE", "claim", c.ID, "C0LETTINGS", msg.TS),
		})
		if got := h.openCase(caller, lettings); got.Owner != "U0ALICE" {
			t.Fatalf("claim over Socket Mode: owner %q", got.Owner)
		}
		ack := peer.send(t, conn, map[string]any{
			"envelope_id": "env-2", "type": "slash_commands", "accepts_response_payload": true,
			"payload": map[string]any{"command": "/callbacks", "text": "mine", "user_id": "U0ALICE", "user_name": "alice", "channel_id": "C0LETTINGS", "team_id": "T0"},
		})
		raw, _ := json.Marshal(ack)
		if !strings.Contains(string(raw), "Your callbacks") || !strings.Contains(string(raw), "#"+strconv.FormatInt(c.ID, 10)) {
			t.Fatalf("/callbacks over Socket Mode acked with %s", raw)
		}
	})
}
