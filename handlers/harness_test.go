package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	rbslack "ringback/bot/slack"
	"ringback/bot/slack/slackstandin"
	"ringback/config"
	"ringback/handlers"
	"ringback/sms"
	"ringback/sms/twiliostandin"
	"ringback/store"
	"ringback/store/storetest"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	publicURL  = "https://ringback.example.com"
	hookSecret = "generic-webhook-secret"
	slackToken = "xoxb-test-bot-token"
	slackSign  = "slack-signing-secret"
	lettings   = "+441632960001"
	maint      = "+441632960002"
	caller     = "+447700900123"
)

// Monday 16 Nov 2026, 10:00 in London: in hours on both lines.
var monday10 = time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)

// harness is a real Ringback HTTP server on a real store, whose Twilio is a
// local stand-in speaking Twilio's REST API.
type harness struct {
	t      testing.TB
	store  *store.Store
	bot    *bot.Bot
	worker *bot.Worker
	clock  *bot.ManualClock
	twilio *twiliostandin.Server
	slack  *slackstandin.Server
	server *httptest.Server
}

func newHarness(t *testing.T, backend string) *harness { return newHarnessTB(t, backend) }

// newHarnessTB builds the harness for a test or a benchmark.
func newHarnessTB(t testing.TB, backend string) *harness {
	t.Helper()
	return newHarnessOn(t, backend, filepath.Join("..", "testdata", "ringback.yaml"))
}

// newHarnessOn builds the harness on the business config at path.
func newHarnessOn(t testing.TB, backend, path string) *harness {
	t.Helper()
	cfg := loadConfig(t, path)
	h := newBotHarness(t, storetest.New(t, backend), cfg, rbslack.Platform)
	sl := slackstandin.NewServer(slackToken)
	t.Cleanup(sl.Close)
	sl.AddUser("U0ALICE", "alice", "Alice Jones")
	sl.AddUser("U0BOB", "bob", "Bob Brown")
	sl.AddUser("U0MANAGER1", "mia", "Mia Manager")
	sl.AddUser("U0VISITOR", "vic", "Vic Visitor")
	sl.SetMembers("C0LETTINGS", "U0ALICE", "U0BOB")
	sl.SetMembers("C0MAINT", "U0BOB")
	h.slack = sl
	adapter := rbslack.New(slackToken, "", sl.URL, h.bot, quietLog)
	h.bot.RegisterChat(h.worker, adapter)
	adapter.Start(context.Background())
	srv := handlers.New(handlers.Deps{Store: h.store, Log: quietLog})
	srv.MountCalls(h.bot, hookSecret, h.clock.Now)
	srv.MountSlack(slackDispatcher(h.bot, adapter, quietLog), slackSign)
	srv.MountAPI(h.bot, cfg)
	h.serve(srv)
	return h
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func loadConfig(t testing.TB, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newBotHarness starts what every harness shares: the Twilio stand-in, a
// bot on s and cfg posting to chats, with a manual clock at monday10, and
// its outbox worker. The caller adds its chat and serves it (h.serve).
func newBotHarness(t testing.TB, s *store.Store, cfg *config.Config, chats ...string) *harness {
	t.Helper()
	tw := twiliostandin.NewServer(accountSID, authToken)
	t.Cleanup(tw.Close)
	clock := bot.NewManualClock(monday10)
	b := bot.New(bot.Deps{
		Store: s, Config: cfg, Clock: clock, Log: quietLog, PublicURL: publicURL,
		Texter: sms.NewTexter(sms.New(accountSID, authToken, tw.URL)),
		Chats:  chats,
	})
	if err := b.SyncTemplates(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := bot.NewWorker(s, clock, "test", quietLog)
	b.Register(w)
	return &harness{t: t, store: s, bot: b, worker: w, clock: clock, twilio: tw}
}

// serve mounts Twilio's webhooks on srv and serves it over real HTTP.
func (h *harness) serve(srv *handlers.Server) {
	srv.MountTwilio(h.bot, authToken, publicURL)
	h.server = httptest.NewServer(srv)
	h.t.Cleanup(h.server.Close)
	h.twilio.RouteCallbacks(publicURL, h.server.URL) // Twilio's receipts reach this server
}

// slackDispatcher runs slow work inline, so tests can assert on its effects.
func slackDispatcher(b *bot.Bot, a *rbslack.Adapter, log *slog.Logger) *handlers.Slack {
	d := handlers.NewSlack(b, a, log)
	d.SetAsync(func(f func(ctx context.Context)) { f(context.Background()) })
	return d
}

// slackReplica is a second Ringback serving Slack on the same store.
func (h *harness) slackReplica() string {
	return h.replica(func(srv *handlers.Server, log *slog.Logger) {
		srv.MountSlack(slackDispatcher(h.bot, rbslack.New(slackToken, "", h.slack.URL, h.bot, log), log), slackSign)
	})
}

// each runs fn on every backend with a fresh harness.
func each(t *testing.T, fn func(t *testing.T, h *harness)) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) { fn(t, newHarness(t, backend)) })
	}
}

// postTwilio posts a form as Twilio would: signed over PUBLIC_URL + path.
func (h *harness) postTwilio(path string, form url.Values) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.server.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sms.Sign(authToken, publicURL+path, form))
	return h.do(req)
}

func (h *harness) do(req *http.Request) (int, string) {
	h.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// missedCall posts Twilio's status callback of an unanswered call.
func (h *harness) missedCall(sid, from, to string) {
	h.t.Helper()
	code, body := h.postTwilio("/twilio/voice/status", url.Values{
		"CallSid": {sid}, "AccountSid": {accountSID}, "From": {from}, "To": {to},
		"CallStatus": {"no-answer"}, "Direction": {"inbound"}, "CallDuration": {"0"},
	})
	if code != 200 {
		h.t.Fatalf("status callback: %d %s", code, body)
	}
}

// missed is a missed call whose side effects (text-back, card) are done:
// it returns the case the call opened.
func (h *harness) missed(sid, from, to string) store.Case {
	h.t.Helper()
	h.missedCall(sid, from, to)
	h.flush()
	return h.openCase(from, to)
}

var smsSeq int

// text posts an incoming SMS as Twilio would.
func (h *harness) text(from, to, body string) (int, string) {
	h.t.Helper()
	smsSeq++
	return h.postTwilio("/twilio/sms", url.Values{
		"MessageSid": {"SM" + strings.Repeat("0", 28) + itoa4(smsSeq)}, "AccountSid": {accountSID},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"},
	})
}

// texted is an incoming SMS whose side effects (replies, card updates) are
// done.
func (h *harness) texted(from, to, body string) {
	h.t.Helper()
	if code, resp := h.text(from, to, body); code != 200 {
		h.t.Fatalf("sms webhook: %d %s", code, resp)
	}
	h.flush()
}

func itoa4(n int) string {
	s := "0000" + strings.TrimLeft(time.Duration(n).String(), "ns")
	s = strings.TrimSuffix(s, "ns")
	return s[len(s)-4:]
}

// flush performs every outbox row due now, as the workers would.
func (h *harness) flush() {
	h.t.Helper()
	if _, err := h.worker.RunDue(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// runOutbox runs the outbox worker as in production (Run, not RunDue)
// until the test ends.
func (h *harness) runOutbox(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { h.worker.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	// Up once it takes texts handed to it as they are written.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ho := h.worker.Handoff(store.LaneSMS, nil); ho != nil {
			ho.Cancel()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox worker did not start")
		}
	}
}

// textsTo lists what the Twilio stand-in was asked to send to number.
func (h *harness) textsTo(number string) []twiliostandin.SentMessage {
	var out []twiliostandin.SentMessage
	for _, m := range h.twilio.Messages() {
		if m.To == number {
			out = append(out, m)
		}
	}
	return out
}

func (h *harness) openCase(number, line string) store.Case {
	h.t.Helper()
	c, err := h.store.OpenCase(context.Background(), number, line)
	if err != nil {
		h.t.Fatalf("open case of %s on %s: %v", number, line, err)
	}
	return c
}

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.store.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		h.t.Fatal(err)
	}
	return n
}

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

// What a refusal must never show: the caller's number (in any form) or
// the case's card.
func revealsCaller(s string) bool {
	return strings.Contains(s, "900123") || strings.Contains(s, "Unclaimed")
}
