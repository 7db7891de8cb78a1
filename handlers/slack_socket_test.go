package handlers_test

import (
	"context"
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
	// responses are the bodies posted to a command's response_url.
	responses chan []byte
	url       string
}

func newSocketPeer(t *testing.T, h *harness) (*httptest.Server, *socketPeer) {
	p := &socketPeer{conns: make(chan *websocket.Conn, 1), responses: make(chan []byte, 4)}
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
	mux.HandleFunc("/respond", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.responses <- body
	})
	mux.Handle("/", h.slack.Handler())
	srv = httptest.NewServer(mux)
	p.url = srv.URL
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
// over the WebSocket do what they do over HTTP. Each is acknowledged before
// it is handled: when the ack arrives the work is still waiting its turn, and
// a command's answer follows through its response_url.
func TestSlackSocketMode(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		apiSrv, peer := newSocketPeer(t, h)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		adapter := rbslack.New(slackToken, "xapp-test", apiSrv.URL+"/", h.bot, log)
		h.bot.RegisterChat(h.worker, adapter)
		dispatch := handlers.NewSlack(h.bot, adapter, log)
		// Work after the ack waits here until the test runs it.
		pending := make(chan func(ctx context.Context), 16)
		dispatch.SetAsync(func(f func(ctx context.Context)) { pending <- f })
		runPending := func() {
			t.Helper()
			select {
			case f := <-pending:
				f(context.Background())
			case <-time.After(5 * time.Second):
				t.Fatal("no work after the ack")
			}
		}
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

		c := h.missed("CAsock1", caller, lettings)
		msg, _ := h.card("C0LETTINGS")
		peer.send(t, conn, map[string]any{
			"envelope_id": "env-1", "type": "interactive", "accepts_response_payload": true,
			"payload": click("U0ALICE", "claim", c.ID, "C0LETTINGS", msg.TS),
		})
		if got := h.openCase(caller, lettings); got.Owner != "" {
			t.Fatalf("the claim was made before its ack: owner %q", got.Owner)
		}
		runPending()
		if got := h.openCase(caller, lettings); got.Owner != "U0ALICE" {
			t.Fatalf("claim over Socket Mode: owner %q", got.Owner)
		}
		ack := peer.send(t, conn, map[string]any{
			"envelope_id": "env-2", "type": "slash_commands", "accepts_response_payload": true,
			"payload": map[string]any{"command": "/callbacks", "text": "mine", "user_id": "U0ALICE", "user_name": "alice",
				"channel_id": "C0LETTINGS", "team_id": "T0", "response_url": peer.url + "/respond"},
		})
		if len(ack) != 0 {
			t.Fatalf("/callbacks acked with an answer, not at once: %v", ack)
		}
		select {
		case raw := <-peer.responses:
			t.Fatalf("/callbacks answered before its work ran: %s", raw)
		default:
		}
		runPending()
		select {
		case raw := <-peer.responses:
			if !strings.Contains(string(raw), "Your callbacks") || !strings.Contains(string(raw), "#"+strconv.FormatInt(c.ID, 10)) ||
				!strings.Contains(string(raw), `"response_type":"ephemeral"`) {
				t.Fatalf("/callbacks over Socket Mode answered %s", raw)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("/callbacks over Socket Mode: no answer at its response_url")
		}
	})
}
