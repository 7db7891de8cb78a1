package handlers_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	rbslack "ringback/bot/slack"
	"ringback/handlers"
)

// replica is a second Ringback server on the same store, as another
// replica or the same one after a restart would be: it shares nothing with
// the first but the database.
func (h *harness) replica(mount func(srv *handlers.Server, log *slog.Logger)) string {
	h.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := handlers.New(handlers.Deps{Store: h.store, Log: log})
	mount(srv, log)
	hs := httptest.NewServer(srv)
	h.t.Cleanup(hs.Close)
	return hs.URL
}

// replays sends req as captured, then its copies (the same bytes, and the
// signature header's hex upper-cased) to the first server and to a
// replica, a minute later each; every copy must be refused.
func (h *harness) replays(req func(base string) *http.Request, header, prefix, replica string) {
	h.t.Helper()
	if code, body := h.do(req(h.server.URL)); code != 200 || strings.Contains(body, "errors") {
		h.t.Fatalf("the captured request: %d %s", code, body)
	}
	for _, base := range []string{replica, h.server.URL} {
		for _, upper := range []bool{false, true} {
			h.clock.Advance(time.Minute)
			r := req(base)
			if upper {
				r.Header.Set(header, prefix+strings.ToUpper(strings.TrimPrefix(r.Header.Get(header), prefix)))
			}
			if code, body := h.do(r); code != http.StatusUnauthorized {
				h.t.Errorf("replay to %s (hex upper-cased: %v): %d %s", base, upper, code, body)
			}
		}
	}
	h.flush()
	if texts := h.textsTo(caller); len(texts) != 2 {
		h.t.Fatalf("texts to the caller = %d, want the text-back and one reply", len(texts))
	}
}

// A captured Reply submission sent again, to another replica or after a
// restart, or with its signature's hex in upper case, sends no second SMS.
func TestSlackReplayIsRefusedByEveryReplica(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, msg, _ := h.slackCase("CAs0000000000000000000000000000r01")
		h.interact(click("U0ALICE", "reply", c.ID, "C0LETTINGS", msg.TS))
		raw, _ := json.Marshal(submit("U0ALICE", lastView(h), map[string]any{"template": selected("template", "callback_missed")}))
		body := url.Values{"payload": {string(raw)}}.Encode()
		replica := h.replica(func(srv *handlers.Server, log *slog.Logger) {
			d := handlers.NewSlack(h.bot, rbslack.New(slackToken, "", h.slack.URL, h.bot, log), log)
			d.SetAsync(func(f func(ctx context.Context)) { f(context.Background()) })
			srv.MountSlack(d, slackSign)
		})
		stamp := time.Now()
		h.replays(func(base string) *http.Request {
			return slackRequest(base+"/slack/interactions", body, stamp, slackSign)
		}, "X-Slack-Signature", "v0=", replica)
	})
}

func TestDiscordReplayIsRefusedByEveryReplica(t *testing.T) {
	eachDiscord(t, func(t *testing.T, h *discordHarness) {
		_, id, _ := h.cardedCase("CAd0000000000000000000000000000r01")
		p := component(dAlice, "reply_send:"+id+":callback_missed", dLettings, "1600000000000000002")
		p["id"], p["token"], p["application_id"], p["version"] = "1500000000000000001", "tok", dApp, 1
		body, _ := json.Marshal(p)
		replica := h.replica(func(srv *handlers.Server, log *slog.Logger) {
			d, err := handlers.NewDiscord(h.bot, h.adapter, hex.EncodeToString(h.priv.Public().(ed25519.PublicKey)), log)
			if err != nil {
				t.Fatal(err)
			}
			srv.MountDiscord(d)
			t.Cleanup(d.Wait)
		})
		stamp := time.Now()
		h.replays(func(base string) *http.Request { return discordRequest(base, body, stamp, h.priv) }, "X-Signature-Ed25519", "", replica)
	})
}
