// Package handlers translates the outside world into the bot's verbs: Twilio
// and other phone systems' webhooks, Slack and Discord requests, health and
// metrics. It checks signatures, sizes and shapes, and decides nothing.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ringback/metrics"
	"ringback/store"
)

// MaxBody is the largest request body accepted; webhooks are far smaller.
const MaxBody = 64 << 10

// Server routes HTTP requests to their handlers.
type Server struct {
	mux      *http.ServeMux
	store    *store.Store
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *metrics.Set

	spool         *Spool // nil: webhooks fail while the store is down
	spoolOpts     SpoolOptions
	spoolMu       sync.Mutex
	spoolAttempts map[string]int // replay attempts of a spooled webhook, under spoolMu

	// The parts that serve routes, set as they are mounted.
	twilio  *Twilio
	calls   *genericCalls
	slack   *Slack
	slackV  *slackVerifier
	discord *Discord
	api     *api
	picker  *picker
}

// The parts of Ringback that serve routes; a part is mounted when it is
// configured (Slack's HTTP endpoints need a signing secret, Discord its keys).
const (
	partCore    = "core"
	partMetrics = "metrics"
	partTwilio  = "twilio"
	partCalls   = "calls"
	partSlack   = "slack"
	partDiscord = "discord"
	partAPI     = "api"
	// partCallbacks is the caller's callback picker.
	partCallbacks = "callbacks"
)

// route is one endpoint: its pattern, the part serving it, and its handler
// once that part is mounted.
type route struct {
	pattern string
	part    string
	handler func(s *Server) http.Handler
}

// routes is every endpoint of DESIGN.md that Ringback serves, in one place.
var routes = []route{
	{"GET /healthz", partCore, func(s *Server) http.Handler { return http.HandlerFunc(s.healthz) }},
	{"GET /readyz", partCore, func(s *Server) http.Handler { return http.HandlerFunc(s.readyz) }},
	{"GET /metrics", partMetrics, func(s *Server) http.Handler { return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}) }},

	{"POST /twilio/voice", partTwilio, func(s *Server) http.Handler { return s.twilio.signed(s.twilio.voice) }},
	{"POST /twilio/voice/status", partTwilio, func(s *Server) http.Handler { return s.twilio.signed(s.twilio.voiceStatus) }},
	{"POST /twilio/voice/recording", partTwilio, func(s *Server) http.Handler { return s.twilio.signed(s.twilio.recording) }},
	{"POST /twilio/sms", partTwilio, func(s *Server) http.Handler { return s.twilio.signed(s.twilio.incomingSMS) }},
	{"POST /twilio/sms/status", partTwilio, func(s *Server) http.Handler { return s.twilio.signed(s.twilio.smsStatus) }},

	{"POST /calls", partCalls, func(s *Server) http.Handler { return s.calls }},

	{"POST /slack/interactions", partSlack, func(s *Server) http.Handler { return s.slackV.wrap(s.slack.httpInteraction) }},
	{"POST /slack/commands", partSlack, func(s *Server) http.Handler { return s.slackV.wrap(s.slack.httpCommand) }},
	{"POST /slack/events", partSlack, func(s *Server) http.Handler { return s.slackV.wrap(s.slack.httpEvent) }},

	{"POST /discord/interactions", partDiscord, func(s *Server) http.Handler { return http.HandlerFunc(s.discord.serveHTTP) }},

	{"GET /api/v1/openapi.json", partAPI, func(s *Server) http.Handler { return http.HandlerFunc(s.api.openapi) }},
	{"GET /api/v1/cases", partAPI, func(s *Server) http.Handler { return s.api.authorized(store.ScopeRead, s.api.cases) }},
	{"GET /api/v1/cases/{id}", partAPI, func(s *Server) http.Handler { return s.api.authorized(store.ScopeRead, s.api.oneCase) }},
	{"GET /api/v1/kpis", partAPI, func(s *Server) http.Handler { return s.api.authorized(store.ScopeReadKPIs, s.api.kpis) }},

	{"GET /c/{token}", partCallbacks, func(s *Server) http.Handler { return http.HandlerFunc(s.picker.get) }},
	{"POST /c/{token}", partCallbacks, func(s *Server) http.Handler { return http.HandlerFunc(s.picker.post) }},
}

// mount serves the routes of part.
func (s *Server) mount(part string) {
	for _, r := range routes {
		if r.part == part {
			s.mux.Handle(r.pattern, r.handler(s))
		}
	}
}

// Deps is what the handlers need from the rest of Ringback.
type Deps struct {
	Store    *store.Store
	Log      *slog.Logger
	Registry *prometheus.Registry // served at /metrics
	Metrics  *metrics.Set         // counts requests and signature failures; nil: none
}

// New builds the routes.
func New(d Deps) *Server {
	s := &Server{mux: http.NewServeMux(), store: d.Store, log: d.Log, registry: d.Registry, metrics: d.Metrics}
	s.mount(partCore)
	if d.Registry != nil {
		s.mount(partMetrics)
	}
	return s
}

// Handle adds a route outside the table: the demo mounts its sandbox with it.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP limits the body, recovers from panics and logs the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r, note := withNote(r)
	// Someone waits on the answer (Twilio times a webhook out): on SQLite
	// its statements go before the outbox's.
	r = r.WithContext(store.Foreground(r.Context()))
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panic", "path", loggedPath(r.URL.Path), "panic", p, "stack", string(debug.Stack()))
			if !rw.wrote {
				http.Error(rw, "internal error", http.StatusInternalServerError)
			}
		}
		took := time.Since(start)
		s.metrics.Request(routeOf(r), rw.status, took)
		if note.signature != "" {
			s.metrics.SignatureFailed(note.signature)
		}
		// A refused request is the client's to fix (and counted); a 5xx is
		// ours, and one an operator may have to look into.
		level := slog.LevelDebug
		switch {
		case rw.status >= 500:
			level = slog.LevelWarn
		case rw.status >= 400:
			level = slog.LevelInfo
		}
		// The path only: query strings and bodies may carry numbers and text.
		s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", loggedPath(r.URL.Path),
			"status", rw.status, "duration_ms", took.Milliseconds())
	}()
	if s.spool != nil && r.Method == http.MethodPost && spoolPaths[r.URL.Path] {
		s.serveSpooled(rw, r)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// healthz is liveness: the process serves HTTP. It answers 200 with the
// database down too (reporting it), so an orchestrator does not restart a
// replica that is waiting out a database outage, spooling webhooks.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	spool := ""
	if s.spool != nil {
		spool = `,"spool_depth":` + strconv.Itoa(s.spool.Depth())
	}
	db := s.store.Dialect()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("health check: database down", "error", err)
		db = "down"
	}
	io.WriteString(w, `{"status":"ok","database":"`+db+`"`+spool+`}`+"\n")
}

// readyz is readiness: the store answers and its schema is this binary's
// (or newer, while a rolling update's new replicas have migrated it), so
// traffic sent here is handled.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	cur, latest, err := s.store.SchemaVersion(ctx)
	switch {
	case err != nil:
		s.log.Warn("readiness check: database down", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"unavailable","database":"down"}`+"\n")
	case cur < latest:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"status":"unavailable","database":%q,"schema":%d,"want_schema":%d}`+"\n", s.store.Dialect(), cur, latest)
	default:
		fmt.Fprintf(w, `{"status":"ready","database":%q,"schema":%d}`+"\n", s.store.Dialect(), cur)
	}
}

// ReadBody reads the whole (limited) body; on failure it has answered 413
// for an oversize body or 400 otherwise, and returns false.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return nil, false
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming responses (the demo's server-sent events) through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
