package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"ringback/bot"
	"ringback/sms"
	"ringback/store"
)

// spoolStoreTimeout bounds the store's part of a webhook: a database that
// hangs instead of refusing is unreachable too, and Twilio gives up on a
// webhook after 15 s.
const spoolStoreTimeout = 5 * time.Second

// spoolMaxAttempts is how often a replay that fails for another reason than
// an unreachable store is tried before the webhook is set aside.
const spoolMaxAttempts = 5

// spoolPaths are the webhooks the spool takes while the store is down.
var spoolPaths = map[string]bool{
	"/twilio/voice": true, "/twilio/voice/status": true, "/twilio/voice/recording": true,
	"/twilio/sms": true, "/twilio/sms/status": true, "/calls": true,
}

// SpoolOptions are what the spool needs to check a webhook's signature
// itself (when it queues one behind others) and to replay /calls, whose
// signature expires after five minutes.
type SpoolOptions struct {
	TwilioAuthToken, PublicURL string
	WebhookSecret              string
	Now                        func() time.Time
	// RecordRoute records a call the Voice URL routed from the configuration
	// while the store was down, as of when it rang (bot.RecordRoute); nil
	// replays the Voice URL itself, which records the call as of the replay.
	RecordRoute func(ctx context.Context, sid, from, to string, at time.Time) error
}

// UseSpool makes the server acknowledge signed webhooks it cannot commit
// because the store is unreachable, writing them to sp for RunSpool to
// replay in order.
func (s *Server) UseSpool(sp *Spool, o SpoolOptions) {
	if o.Now == nil {
		o.Now = time.Now
	}
	s.spool, s.spoolOpts = sp, o
	s.spoolAttempts = map[string]int{}
}

type spoolKey struct{}

// spoolCapture is how a handler tells the spool that its store call failed
// because the store is unreachable.
type spoolCapture struct {
	unavailable bool
	err         error
}

// spoolUnavailable reports whether err means the store is unreachable and
// the request runs under the spool, which then acknowledges it: the
// handler must return without answering (or, for the Voice URL, answer from
// the configuration alone).
func spoolUnavailable(r *http.Request, err error) bool {
	c, _ := r.Context().Value(spoolKey{}).(*spoolCapture)
	if c == nil || !store.IsUnavailable(err) {
		return false
	}
	c.unavailable, c.err = true, err
	return true
}

// serveSpooled runs a webhook under the spool.
func (s *Server) serveSpooled(w http.ResponseWriter, r *http.Request) {
	body, ok := ReadBody(w, r)
	if !ok {
		return
	}
	if r.URL.Path != "/twilio/voice" && s.spool.Holds(r.URL.Path, body) && s.spoolVerified(r, body) {
		// Earlier webhooks of the same caller (or text) wait in the spool:
		// this one queues behind them so a call's events keep their order.
		// The Voice URL runs at once: it is a call's first event and the
		// caller is waiting for the route.
		s.spoolAndAnswer(w, r, body)
		return
	}
	capture := &spoolCapture{}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), spoolKey{}, capture), spoolStoreTimeout)
	defer cancel()
	r2 := r.WithContext(ctx)
	r2.Body = io.NopCloser(bytes.NewReader(body))
	buf := newBufferedResponse()
	s.mux.ServeHTTP(buf, r2)
	if !capture.unavailable {
		buf.copyTo(w)
		return
	}
	s.log.Warn("store unreachable: webhook spooled for replay", "path", r.URL.Path, "error", capture.err)
	if r.URL.Path == "/twilio/voice" {
		// The handler routed the call from the configuration; record the call
		// when the store is back. A full spool still routes the call: the
		// reconciler finds it later.
		if err := s.spool.Append(s.spooledRequest(r, body)); err != nil {
			s.log.Error("webhook spool: voice call not recorded", "error", err)
		}
		buf.copyTo(w)
		return
	}
	s.spoolAndAnswer(w, r, body)
}

// spoolVerified checks the webhook's signature as its handler would.
func (s *Server) spoolVerified(r *http.Request, body []byte) bool {
	o := s.spoolOpts
	if r.URL.Path == "/calls" {
		return o.WebhookSecret != "" && VerifySignature(o.WebhookSecret, r.Header.Get(SignatureHeader), body, o.Now()) == nil
	}
	form, err := url.ParseQuery(string(body))
	sig := r.Header.Get("X-Twilio-Signature")
	return err == nil && sig != "" && o.TwilioAuthToken != "" && o.PublicURL != "" &&
		sms.ValidateSignature(o.TwilioAuthToken, trimSlash(o.PublicURL)+r.URL.RequestURI(), form, sig)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

func (s *Server) spooledRequest(r *http.Request, body []byte) SpooledRequest {
	h := http.Header{}
	for _, k := range spoolHeaders {
		if v := r.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return SpooledRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: h, Body: body, ReceivedAt: s.spoolOpts.Now().UTC()}
}

// spoolAndAnswer writes the webhook to the spool and acknowledges it as its
// handler would have; a full spool answers 503 so that the sender retries.
func (s *Server) spoolAndAnswer(w http.ResponseWriter, r *http.Request, body []byte) {
	if err := s.spool.Append(s.spooledRequest(r, body)); err != nil {
		s.log.Error("webhook spool refused a webhook", "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	form, _ := url.ParseQuery(string(body))
	tw := &Twilio{publicURL: trimSlash(s.spoolOpts.PublicURL), log: s.log}
	switch r.URL.Path {
	case "/twilio/voice/status":
		if d := form.Get("DialCallStatus"); d != "" {
			tw.render(w, bot.AfterDial(sms.DialOutcome(d))) // Twilio waits for what follows the <Dial>
			return
		}
		emptyTwiML(w)
	case "/twilio/voice/recording":
		if form.Get("To") != "" && form.Get("TranscriptionText") == "" && form.Get("RecordingStatus") == "" {
			tw.render(w, bot.VoicemailTaken())
			return
		}
		emptyTwiML(w)
	case "/twilio/sms":
		emptyTwiML(w)
	case "/twilio/sms/status":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"spooled":true}`+"\n")
	}
}

// spoolReplayers is how many callers' webhooks replay side by side: each
// caller's in the order they arrived, so a spool filled during an outage
// drains at the pace live traffic is served, not one request at a time.
const spoolReplayers = 8

// ReplaySpool replays spooled webhooks through their handlers, each key's
// (orderKey) oldest first and a keyless one after everything before it,
// until the spool is empty or the store is unreachable again. Handlers are
// idempotent on the webhook's SID, so a webhook replayed twice (the process
// died between its commit and its removal) changes nothing.
func (s *Server) ReplaySpool(ctx context.Context) (replayed int, err error) {
	for ctx.Err() == nil {
		files := s.spool.waiting()
		if len(files) == 0 {
			return replayed, nil
		}
		for len(files) > 0 {
			run := 1 // a keyless webhook replays alone
			if files[0].key != "" {
				run = slices.IndexFunc(files, func(f spoolFile) bool { return f.key == "" })
				if run < 0 {
					run = len(files)
				}
			}
			n, err := s.replayRun(ctx, files[:run])
			replayed += n
			if err != nil {
				return replayed, err
			}
			files = files[run:]
		}
	}
	return replayed, ctx.Err()
}

// replayRun replays files, one goroutine a key (at most spoolReplayers at
// once), starts no key after one failed, and returns the first error once
// every started key has stopped.
func (s *Server) replayRun(ctx context.Context, files []spoolFile) (int, error) {
	order, byKey := replayOrder(files)
	var (
		g        errgroup.Group
		replayed atomic.Int64
		failed   atomic.Bool
	)
	g.SetLimit(spoolReplayers)
	for _, k := range order {
		if failed.Load() {
			break
		}
		group := byKey[k]
		g.Go(func() error {
			n, err := s.replayGroup(ctx, group)
			replayed.Add(int64(n))
			if err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	err := g.Wait()
	return int(replayed.Load()), err
}

// replayOrder groups files by key and orders the keys for replay
// (callersFirst).
func replayOrder(files []spoolFile) (order []string, byKey map[string][]spoolFile) {
	byKey = map[string][]spoolFile{}
	for _, f := range files {
		if _, ok := byKey[f.key]; !ok {
			order = append(order, f.key)
		}
		byKey[f.key] = append(byKey[f.key], f)
	}
	return callersFirst(order, byKey), byKey
}

// callersFirst orders a run's keys for replay: callers' (their calls and
// texts) before texts' receipts, each in the order they first arrived. After
// an outage the spool holds the receipts of the texts already out beside
// the calls; a missed call waiting behind them would wait for its text-back
// as long as they take to replay, while a receipt mostly moves a delivered
// tick. A text's receipts that say it bounced keep their place among the
// callers': the caller's next text-back must know the number is
// untextable. Keys share no order (orderKey), so no webhook moves within
// its own.
func callersFirst(order []string, byKey map[string][]spoolFile) []string {
	first := func(k string) bool {
		return !strings.HasPrefix(k, "sms:") || slices.ContainsFunc(byKey[k], func(f spoolFile) bool { return f.bounce })
	}
	out := make([]string, 0, len(order))
	for _, early := range []bool{true, false} {
		for _, k := range order {
			if first(k) == early {
				out = append(out, k)
			}
		}
	}
	return out
}

// replayGroup replays one key's webhooks in order, stopping at the first
// that cannot be replayed yet.
func (s *Server) replayGroup(ctx context.Context, group []spoolFile) (replayed int, err error) {
	for _, f := range group {
		if err := ctx.Err(); err != nil {
			return replayed, err
		}
		ok, err := s.replayFile(ctx, f.name)
		if ok {
			replayed++
		}
		if err != nil {
			return replayed, err
		}
	}
	return replayed, nil
}

// replayFile replays the spooled webhook name and removes it, or sets it
// aside under dead/ when it can never succeed; ok reports a replay that
// its handler accepted.
func (s *Server) replayFile(ctx context.Context, name string) (ok bool, err error) {
	req, err := s.spool.read(name)
	if err != nil {
		s.log.Error("webhook spool: unreadable webhook set aside", "file", name, "error", err)
		return false, s.spool.done(name, true)
	}
	status, capture, err := s.replayOne(ctx, req)
	if err != nil {
		return false, err
	}
	switch {
	case capture.unavailable:
		return false, fmt.Errorf("handlers: replay: %w", capture.err)
	case status < 300:
		s.forgetAttempts(name)
		return true, s.spool.done(name, false)
	case status >= 500 && s.replayAgain(name):
		return false, fmt.Errorf("handlers: replay %s: status %d", req.Path, status)
	}
	s.log.Error("webhook spool: replay refused; webhook set aside under dead/", "file", name, "path", req.Path, "status", status)
	s.forgetAttempts(name)
	return false, s.spool.done(name, true)
}

// replayAgain counts a replay of name that failed on Ringback's side and
// reports whether it may be tried again (spoolMaxAttempts in all).
func (s *Server) replayAgain(name string) bool {
	s.spoolMu.Lock()
	defer s.spoolMu.Unlock()
	if s.spoolAttempts[name]+1 >= spoolMaxAttempts {
		return false
	}
	s.spoolAttempts[name]++
	return true
}

func (s *Server) forgetAttempts(name string) {
	s.spoolMu.Lock()
	delete(s.spoolAttempts, name)
	s.spoolMu.Unlock()
}

func (s *Server) replayOne(ctx context.Context, sr SpooledRequest) (int, *spoolCapture, error) {
	capture := &spoolCapture{}
	// A caller waits on it (its text-back) as on a live webhook: its
	// statements go before the outbox's backlog, which a replica that
	// comes back to a spool also comes back to.
	rctx, cancel := context.WithTimeout(context.WithValue(store.Foreground(ctx), spoolKey{}, capture), spoolStoreTimeout)
	defer cancel()
	if sr.Path == "/twilio/voice" && s.spoolOpts.RecordRoute != nil {
		// Its answer went out long ago; what is left is to record the call
		// as of when it rang (in hours or not, its start).
		form, err := url.ParseQuery(string(sr.Body))
		if err != nil || form.Get("CallSid") == "" {
			return http.StatusBadRequest, capture, nil
		}
		err = s.spoolOpts.RecordRoute(rctx, form.Get("CallSid"), form.Get("From"), form.Get("To"), sr.ReceivedAt)
		switch {
		case err == nil:
			return http.StatusOK, capture, nil
		case store.IsUnavailable(err):
			capture.unavailable, capture.err = true, err
			return 0, capture, nil
		case errors.Is(err, bot.ErrBadInput):
			return http.StatusBadRequest, capture, nil
		}
		s.log.Error("webhook spool: recording a routed call failed", "error", err)
		return http.StatusInternalServerError, capture, nil
	}
	target := "http://spool" + sr.Path
	if sr.RawQuery != "" {
		target += "?" + sr.RawQuery
	}
	req, err := http.NewRequestWithContext(rctx, sr.Method, target, bytes.NewReader(sr.Body))
	if err != nil {
		return 0, nil, fmt.Errorf("handlers: replay: %w", err)
	}
	for k, vs := range sr.Header {
		req.Header[k] = vs
	}
	if sr.Path == "/calls" && s.spoolOpts.WebhookSecret != "" {
		// Checked when it arrived; its signature's five minutes may be over.
		req.Header.Set(SignatureHeader, SignGeneric(s.spoolOpts.WebhookSecret, sr.Body, s.spoolOpts.Now()))
	}
	req.Body = http.MaxBytesReader(nil, req.Body, MaxBody)
	buf := newBufferedResponse()
	s.mux.ServeHTTP(buf, req)
	return buf.status, capture, nil
}

// RunSpool replays the spool whenever it holds webhooks and the store
// answers, until ctx ends (after the HTTP server has stopped), then
// releases the spool's directory.
func (s *Server) RunSpool(ctx context.Context) {
	defer s.spool.Close()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.spool.wake:
		}
		if s.spool.Depth() == 0 {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.store.Ping(pctx)
		cancel()
		if err != nil {
			continue
		}
		n, err := s.ReplaySpool(ctx)
		if n > 0 {
			s.log.Info("webhook spool replayed", "count", n, "left", s.spool.Depth())
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn("webhook spool replay paused", "error", err, "left", s.spool.Depth())
		}
	}
}

// SpoolCollectors export the spool's depth and size to Prometheus.
func SpoolCollectors(sp *Spool) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringback_webhook_spool_depth",
			Help: "Webhooks acknowledged while the database was unreachable, waiting to be replayed.",
		}, func() float64 { return float64(sp.Depth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ringback_webhook_spool_bytes",
			Help: "Size on disk of the webhooks waiting in the spool.",
		}, func() float64 { return float64(sp.Bytes()) }),
	}
}

// bufferedResponse holds a handler's answer until the spool knows whether
// to send it or to acknowledge the webhook itself.
type bufferedResponse struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, vs := range b.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
