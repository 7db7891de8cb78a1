package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ringback/handlers"
	"ringback/store/storetest"
)

// pgProxy stands between a store and PostgreSQL so a test can make the
// database unreachable (connections cut, port closed) and bring it back.
type pgProxy struct {
	t      *testing.T
	addr   string // host:port the store dials
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	p := &pgProxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *pgProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

// down cuts every connection and closes the port: dials are refused.
func (p *pgProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// up opens the port again.
func (p *pgProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

// spoolHarness is the handlers' harness on a PostgreSQL store reached
// through a proxy, with the webhook spool in use.
func spoolHarness(t *testing.T, maxBytes int64) (*harness, *handlers.Server, *handlers.Spool, *pgProxy, *prometheus.Registry) {
	t.Helper()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("needs PostgreSQL (TEST_DATABASE_URL)")
	}
	u, err := url.Parse(storetest.URL(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, u.Host)
	u.Host = proxy.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	h := newBotHarness(t, storetest.Migrated(t, u.String()), loadConfig(t, filepath.Join("..", "ringback.example.yaml")))
	reg := prometheus.NewRegistry()
	srv := handlers.New(handlers.Deps{Store: h.store, Log: quietLog, Registry: reg})
	srv.MountCalls(h.bot, hookSecret, h.clock.Now)
	sp, err := handlers.OpenSpool(t.TempDir(), maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	srv.UseSpool(sp, handlers.SpoolOptions{TwilioAuthToken: authToken, PublicURL: publicURL, WebhookSecret: hookSecret, Now: h.clock.Now, RecordRoute: h.bot.RecordRoute})
	reg.MustRegister(handlers.SpoolCollectors(sp)...)
	h.serve(srv)
	return h, srv, sp, proxy, reg
}

func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.server.URL+path, nil)
	return h.do(req)
}

// PostgreSQL goes away mid-day: a missed call's webhooks are acknowledged
// from the spool (the caller's call is still routed by the configuration),
// and when the database is back they are replayed in order: one case, one
// text-back, however often Twilio retries.
func TestWebhooksSpooledWhileTheDatabaseIsDown(t *testing.T) {
	h, srv, sp, proxy, _ := spoolHarness(t, 1<<20)
	const sid = "CAd0000000000000000000000000000001"
	ring := url.Values{"CallSid": {sid}, "AccountSid": {accountSID}, "From": {caller}, "To": {lettings}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
	dial := url.Values{"CallSid": {sid}, "AccountSid": {accountSID}, "From": {caller}, "To": {lettings}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}, "DialCallStatus": {"no-answer"}}
	if code, body := h.get("/healthz"); code != 200 || !strings.Contains(body, `"spool_depth":0`) {
		t.Fatalf("/healthz before = %d %s", code, body)
	}

	// 17:25 on a Monday: the Lettings line is open until 17:30.
	rang := time.Date(2026, 11, 16, 17, 25, 0, 0, time.UTC)
	h.clock.Set(rang)
	proxy.down()
	code, body := h.postTwilio("/twilio/voice", ring)
	if code != 200 {
		t.Fatalf("/twilio/voice with the database down = %d %s; want the configured route", code, body)
	}
	if d, ok := parseTwiML(t, body).find("Dial"); !ok || len(d.all("Number")) != 2 {
		t.Fatalf("in hours the call rings the line's staff phones, got %s", body)
	}
	code, body = h.postTwilio("/twilio/voice/status", dial)
	if code != 200 {
		t.Fatalf("status callback with the database down = %d %s", code, body)
	}
	if _, ok := parseTwiML(t, body).find("Record"); !ok {
		t.Fatalf("after an unanswered <Dial> the caller goes to voicemail, got %s", body)
	}
	if sp.Depth() != 2 {
		t.Fatalf("spool depth = %d, want 2", sp.Depth())
	}
	// Alive and spooling: not a replica to restart, but not ready.
	if code, body := h.get("/healthz"); code != http.StatusOK || !strings.Contains(body, `"database":"down","spool_depth":2`) {
		t.Fatalf("/healthz while down = %d %s", code, body)
	}
	if code, body := h.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"down"`) {
		t.Fatalf("/readyz while down = %d %s", code, body)
	}
	if _, body := h.get("/metrics"); !strings.Contains(body, "ringback_webhook_spool_depth 2") {
		t.Fatalf("/metrics lacks the spool depth:\n%.1500s", body)
	}
	// Twilio retries the status callback (it saw a timeout, say): spooled again.
	if code, _ := h.postTwilio("/twilio/voice/status", dial); code != 200 {
		t.Fatalf("retried status callback = %d", code)
	}

	proxy.up()
	// A webhook arriving before the replay queues behind the spooled ones.
	if code, _ := h.postTwilio("/twilio/voice/status", url.Values{"CallSid": {sid}, "AccountSid": {accountSID}, "From": {caller}, "To": {lettings}, "CallStatus": {"completed"}, "Direction": {"inbound"}, "CallDuration": {"40"}}); code != 200 {
		t.Fatalf("status callback after the database is back = %d", code)
	}
	if sp.Depth() != 4 {
		t.Fatalf("spool depth = %d, want 4 (the live webhook queued behind the spooled ones)", sp.Depth())
	}
	h.clock.Set(rang.Add(15 * time.Minute)) // the database is back after closing time
	replaySpool(t, srv, sp)
	h.flush()
	if n := h.count("cases"); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
	c := h.openCase(caller, lettings)
	if c.CallCount != 1 {
		t.Fatalf("case counts %d calls, want 1", c.CallCount)
	}
	// Recorded as of when it rang, not when the spool was replayed.
	call, err := h.store.CallBySID(context.Background(), sid)
	if err != nil || !call.StartedAt.Equal(rang) || call.AfterHours || !call.Missed {
		t.Fatalf("call = %+v (%v); want missed, started %v, in hours", call, err, rang)
	}
	if !c.CreatedAt.Equal(rang) || c.AfterHours {
		t.Fatalf("case created %v (after hours %v); want %v, in hours", c.CreatedAt, c.AfterHours, rang)
	}
	if n := len(h.textsTo(caller)); n != 1 {
		t.Fatalf("%d text-backs, want 1", n)
	}
	// Twilio's own retry of the callback after the replay changes nothing.
	h.missed(sid, caller, lettings)
	if n, texts := h.count("cases"), len(h.textsTo(caller)); n != 1 || texts != 1 {
		t.Fatalf("after a late retry: %d cases, %d texts", n, texts)
	}
	if code, body := h.get("/healthz"); code != 200 || !strings.Contains(body, `"spool_depth":0`) {
		t.Fatalf("/healthz after = %d %s", code, body)
	}
}

// A caller's SMS and the generic webhook are spooled too; a forged webhook
// is refused even when the store is down, and a full spool answers 503 so
// that Twilio retries.
func TestSpoolRefusesForgedWebhooksAndAFullSpool(t *testing.T) {
	h, _, sp, proxy, _ := spoolHarness(t, 700)
	proxy.down()
	form := url.Values{"MessageSid": {"SMd0000000000000000000000000000001"}, "AccountSid": {accountSID}, "From": {caller}, "To": {lettings}, "Body": {"2"}, "NumMedia": {"0"}}
	req, _ := http.NewRequest("POST", h.server.URL+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", "forged")
	if code, _ := h.do(req); code != http.StatusForbidden || sp.Depth() != 0 {
		t.Fatalf("forged webhook: %d, depth %d", code, sp.Depth())
	}
	if code, body := h.postTwilio("/twilio/sms", form); code != 200 || sp.Depth() != 1 {
		t.Fatalf("incoming SMS with the database down: %d %s, depth %d", code, body, sp.Depth())
	}
	if b := sp.Bytes(); b < 350 || b > 550 {
		t.Fatalf("one webhook takes %d bytes; the test assumes about 400", b)
	}
	// 700 bytes hold one webhook, not two.
	form.Set("MessageSid", "SMd0000000000000000000000000000002")
	if code, _ := h.postTwilio("/twilio/sms", form); code != http.StatusServiceUnavailable || sp.Depth() != 1 {
		t.Fatalf("full spool: %d, depth %d; want 503 and nothing added", code, sp.Depth())
	}
}

// What is on disk survives the process: a new Spool on the directory
// finds the webhooks in order, and refuses past its size.
func TestSpoolSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	sp, err := handlers.OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/twilio/voice", "/twilio/voice/status"} {
		if err := sp.Append(handlers.SpooledRequest{Method: "POST", Path: p, Body: []byte("CallSid=CA1")}); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "tmp-00000000000000000003.json"), []byte("{"), 0o600) // a write cut short
	if _, err := handlers.OpenSpool(dir, 1<<20); err == nil {
		t.Fatal("a second process opened a spool in use")
	}
	sp.Close() // the process ends
	again, err := handlers.OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if again.Depth() != 2 {
		t.Fatalf("depth after reopening = %d, want 2", again.Depth())
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp-00000000000000000003.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an incomplete write was kept")
	}
	again.Close()
	small, err := handlers.OpenSpool(dir, again.Bytes()+10)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if err := small.Append(handlers.SpooledRequest{Method: "POST", Path: "/twilio/sms", Body: []byte("MessageSid=SM1")}); !errors.Is(err, handlers.ErrSpoolFull) {
		t.Fatalf("append past the bound: %v", err)
	}
}

// spooled is the bodies of the webhooks waiting in dir, in file order.
func spooled(t *testing.T, dir string) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	bodies := make([]string, len(names))
	for i, name := range names {
		var r handlers.SpooledRequest
		raw, err := os.ReadFile(name)
		if err == nil {
			err = json.Unmarshal(raw, &r)
		}
		if err != nil {
			t.Fatal(err)
		}
		bodies[i] = string(r.Body)
	}
	return strings.Join(bodies, " ")
}

// Two replicas pointed at one spool directory (two Spools, each with its own
// descriptor, as two processes have): only the one holding the directory
// writes or replays it. The other refuses to open it; and a replica that
// released it (shutting down while a request still drains) can neither
// overwrite the new owner's webhooks nor replay them.
func TestTwoSpoolsNeverShareADirectory(t *testing.T) {
	dir := t.TempDir()
	post := func(sp *handlers.Spool, sid string) error {
		return sp.Append(handlers.SpooledRequest{Method: "POST", Path: "/twilio/voice/status", Body: []byte("CallSid=" + sid)})
	}
	first, err := handlers.OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := post(first, "CA1"); err != nil {
		t.Fatal(err)
	}
	if other, err := handlers.OpenSpool(dir, 1<<20); err == nil {
		other.Close()
		t.Fatal("a second replica opened a spool in use")
	}

	first.Close() // shutting down; a request may still drain
	second, err := handlers.OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := post(second, "CA2"); err != nil {
		t.Fatal(err)
	}
	if err := post(first, "CA3"); !errors.Is(err, handlers.ErrSpoolClosed) {
		t.Errorf("the replica that let the directory go still wrote to it: %v", err)
	}
	srv := handlers.New(handlers.Deps{Store: storetest.New(t, "sqlite"), Log: quietLog})
	srv.UseSpool(first, handlers.SpoolOptions{})
	if n, _ := srv.ReplaySpool(context.Background()); n != 0 {
		t.Errorf("the replica that let the directory go replayed %d webhooks", n)
	}
	if got := spooled(t, dir); got != "CallSid=CA1 CallSid=CA2" {
		t.Errorf("the spool holds %q, want CA1 and CA2, each once", got)
	}
	if dead, _ := filepath.Glob(filepath.Join(dir, "dead", "*")); len(dead) != 0 {
		t.Errorf("the replica that let the directory go set %d webhooks aside", len(dead))
	}
}

// After an outage only the callers whose webhooks wait in the spool wait
// for it: a new caller's missed call is recorded at once, a spooled
// caller's next webhook queues behind theirs, and the replay (callers side
// by side) keeps each caller's webhooks in order.
func TestSpoolDelaysOnlyTheCallersItHolds(t *testing.T) {
	h, srv, sp, proxy, _ := spoolHarness(t, 1<<24)
	rang := time.Date(2026, 11, 16, 11, 0, 0, 0, time.UTC) // Monday, the line open
	h.clock.Set(rang)
	status := func(sid, from, callStatus string) url.Values {
		return url.Values{"CallSid": {sid}, "AccountSid": {accountSID}, "From": {from}, "To": {lettings}, "CallStatus": {callStatus}, "Direction": {"inbound"}, "CallDuration": {"0"}}
	}
	const spooled = 24
	spooledCaller := func(i int) string { return fmt.Sprintf("+4477009%05d", i) }
	proxy.down()
	for i := range spooled {
		// Each spooled caller missed a call, then pressed 1 on the menu.
		if code, _ := h.postTwilio("/twilio/voice/status", status(fmt.Sprintf("CA%032d", i), spooledCaller(i), "no-answer")); code != 200 {
			t.Fatalf("spooled call %d: %d", i, code)
		}
		if code, _ := h.text(spooledCaller(i), lettings, "1"); code != 200 {
			t.Fatalf("spooled text %d: %d", i, code)
		}
	}
	if sp.Depth() != 2*spooled {
		t.Fatalf("spool depth %d, want %d", sp.Depth(), 2*spooled)
	}
	proxy.up()

	// A caller the spool knows nothing of: recorded now, not after the replay.
	newCaller := "+447700988888"
	if code, _ := h.postTwilio("/twilio/voice/status", status("CA"+strings.Repeat("9", 32), newCaller, "no-answer")); code != 200 {
		t.Fatalf("new caller's call: %d", code)
	}
	if sp.Depth() != 2*spooled {
		t.Fatalf("the new caller's webhook was spooled behind %d others (depth %d)", 2*spooled, sp.Depth())
	}
	if c := h.openCase(newCaller, lettings); c.CallCount != 1 {
		t.Fatalf("new caller's case: %+v", c)
	}
	// A spooled caller rings again: that waits behind their own webhooks.
	if code, _ := h.postTwilio("/twilio/voice/status", status("CA"+strings.Repeat("8", 32), spooledCaller(3), "no-answer")); code != 200 {
		t.Fatalf("spooled caller's second call: %d", code)
	}
	if sp.Depth() != 2*spooled+1 {
		t.Fatalf("spool depth %d, want %d (the spooled caller's call queued)", sp.Depth(), 2*spooled+1)
	}

	replaySpool(t, srv, sp)
	for i := range spooled {
		c := h.openCase(spooledCaller(i), lettings)
		// In order: the call opened the case and the digit triaged it.
		if c.Origin != "call" || c.Category == "" {
			t.Errorf("caller %d: case origin %q, category %q; want opened by the call, then triaged", i, c.Origin, c.Category)
		}
		want := 1
		if i == 3 {
			want = 2
		}
		if c.CallCount != want {
			t.Errorf("caller %d: %d calls, want %d", i, c.CallCount, want)
		}
	}
}

// After an outage the spool holds mostly receipts of the texts already out;
// a missed call spooled behind them is replayed first, so its caller's
// text-back does not wait for every delivered tick to be recorded.
func TestSpoolReplaysMissedCallsBeforeReceipts(t *testing.T) {
	h, srv, sp, proxy, _ := spoolHarness(t, 1<<24)
	h.clock.Set(time.Date(2026, 11, 16, 11, 0, 0, 0, time.UTC)) // Monday, the line open
	const receipts = 200
	proxy.down()
	for i := range receipts {
		// Texts sent before the outage (their SIDs not recorded here: each
		// receipt is kept until its text is, a row of its own).
		form := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", i)}, "AccountSid": {accountSID}, "MessageStatus": {"delivered"}}
		if code, body := h.postTwilio("/twilio/sms/status", form); code/100 != 2 {
			t.Fatalf("spooled receipt %d: %d %s", i, code, body)
		}
	}
	h.missedCall("CA"+strings.Repeat("7", 32), caller, lettings)
	if sp.Depth() != receipts+1 {
		t.Fatalf("spool depth %d, want %d", sp.Depth(), receipts+1)
	}
	proxy.up()
	replaySpool(t, srv, sp)
	if n := h.count("early_receipts"); n != receipts {
		t.Fatalf("%d receipts kept, want %d", n, receipts)
	}
	// Which committed first: transaction IDs are handed out in order.
	var before int
	if err := h.store.DB().Get(&before, `SELECT COUNT(*) FROM early_receipts r, cases c
		WHERE c.caller_number = $1 AND r.xmin::text::bigint < c.xmin::text::bigint`, caller); err != nil {
		t.Fatal(err)
	}
	// Eight webhooks replay side by side: a few receipts may start with it.
	if before >= receipts/2 {
		t.Errorf("%d of the %d receipts spooled before the missed call were replayed before it", before, receipts)
	}
	h.flush()
	if n := len(h.textsTo(caller)); n != 1 {
		t.Fatalf("%d text-backs to the caller, want 1", n)
	}
}

// replaySpool runs the server's spool replay until the spool is empty (for
// up to 20 s).
func replaySpool(t *testing.T, srv *handlers.Server, sp *handlers.Spool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go srv.RunSpool(ctx)
	deadline := time.Now().Add(20 * time.Second)
	for sp.Depth() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if sp.Depth() != 0 {
		t.Fatalf("spool not replayed: depth %d", sp.Depth())
	}
}
