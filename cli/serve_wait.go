package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ringback/bot"
	"ringback/config"
	"ringback/handlers"
	"ringback/store"
)

// Waiting for the database: the first retry after 250 ms, doubling to a
// retry a second for the first minute (a restart of PostgreSQL takes a
// few seconds, and every second waited is one more for the texts of the
// rows this replica left running), then doubling up to 30 s.
const (
	storeWaitFirst = 250 * time.Millisecond
	storeWaitSoon  = time.Second
	storeWaitLong  = time.Minute
	storeWaitMax   = 30 * time.Second
)

// nextStoreWait is the wait after wait, begun waited ago.
func nextStoreWait(wait, waited time.Duration) time.Duration {
	if waited < storeWaitLong {
		return min(2*wait, storeWaitSoon)
	}
	return min(2*wait, storeWaitMax)
}

// openStore opens and migrates the store. When PostgreSQL cannot be reached
// (not started yet, restarting, being restored) serve waits for it, retrying
// with backoff, instead of exiting; meanwhile it listens, and /healthz and
// /readyz say it is waiting. *ln is the listener the server will use (opened here when
// nil).
func (a *app) openStore(ctx context.Context, env config.Env, ln *net.Listener) (*store.Store, error) {
	s, err := openAndMigrate(ctx, env.DatabaseURL)
	if err == nil || !store.IsUnavailable(err) {
		return s, err
	}
	if *ln == nil {
		l, lerr := net.Listen("tcp", env.Addr)
		if lerr != nil {
			return nil, fmt.Errorf("cli: listen on %s: %w", env.Addr, lerr)
		}
		*ln = l
	}
	var attempts atomic.Int64
	attempts.Store(1)
	stop := serveWhileWaiting(*ln, &attempts)
	defer stop()
	wait, began := storeWaitFirst, time.Now()
	for {
		a.log.Warn("database unreachable: waiting for it", "attempt", attempts.Load(), "retry_in", wait.String(), "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cli: waiting for the database: %w", ctx.Err())
		case <-time.After(wait):
		}
		attempts.Add(1)
		s, err = openAndMigrate(ctx, env.DatabaseURL)
		if err == nil {
			a.log.Info("database reachable", "attempts", attempts.Load())
			return s, nil
		}
		if !store.IsUnavailable(err) {
			return nil, err
		}
		wait = nextStoreWait(wait, time.Since(began))
	}
}

// openAndMigrate opens the database and brings its schema up to date; the
// caller closes it.
func openAndMigrate(ctx context.Context, url string) (*store.Store, error) {
	s, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// serveWhileWaiting answers on ln until stop is called: /healthz (200) and
// /readyz (503) say the database is awaited, everything else is 503 with Retry-After, which
// Twilio retries when its webhook URLs carry a retry policy (README). stop
// hands ln back unclosed. A listener without deadlines (the demo's) gets no
// stand-in server.
func serveWhileWaiting(ln net.Listener, attempts *atomic.Int64) (stop func()) {
	dl, ok := ln.(interface{ SetDeadline(time.Time) error })
	if !ok {
		return func() {}
	}
	hl := &handoffListener{Listener: ln, done: make(chan struct{})}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "5")
			// Alive (no restart would help) but not ready: no traffic yet.
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/readyz" {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
				io.WriteString(w, `{"status":"starting","database":"waiting","attempts":`+strconv.FormatInt(attempts.Load(), 10)+`}`+"\n")
				return
			}
			http.Error(w, "starting: waiting for the database", http.StatusServiceUnavailable)
		}),
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(hl) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(hl.done)
			_ = dl.SetDeadline(time.Now()) // wakes the pending Accept
			<-served
			_ = dl.SetDeadline(time.Time{})
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx) // finishes requests in flight; hl.Close leaves ln open
		})
	}
}

// handoffListener lets a stand-in server accept on a listener and give it
// back unclosed.
type handoffListener struct {
	net.Listener
	done chan struct{}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	select {
	case <-l.done:
		if err != nil {
			return nil, net.ErrClosed
		}
	default:
	}
	return c, err
}

func (l *handoffListener) Close() error { return nil }

// openSpool opens the webhook spool for PostgreSQL (an embedded SQLite file
// cannot be unreachable): RINGBACK_SPOOL_DIR (default
// ringback-spool/port-<port of RINGBACK_ADDR>),
// bounded by RINGBACK_SPOOL_MAX_MB (default 256).
func (a *app) openSpool(env config.Env) (*handlers.Spool, error) {
	if !strings.HasPrefix(env.DatabaseURL, "postgres") {
		return nil, nil
	}
	dir := a.getenv("RINGBACK_SPOOL_DIR")
	if dir == "" {
		// One directory per listening port: replicas on one host each
		// keep their own spool.
		_, port, _ := net.SplitHostPort(env.Addr)
		dir = filepath.Join("ringback-spool", "port-"+port)
	}
	maxMB := int64(256)
	if v := a.getenv("RINGBACK_SPOOL_MAX_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, errors.New("cli: RINGBACK_SPOOL_MAX_MB must be a positive number of megabytes")
		}
		maxMB = n
	}
	sp, err := handlers.OpenSpool(dir, maxMB<<20)
	if err != nil {
		return nil, err
	}
	if n := sp.Depth(); n > 0 {
		a.log.Info("webhook spool holds webhooks from before the restart: replaying them", "count", n, "dir", dir)
	}
	return sp, nil
}

// useSpool makes srv spool webhooks in sp (nil: none) while the store is
// unreachable and exports the spool's depth.
func (a *app) useSpool(sp *handlers.Spool, env config.Env, srv *handlers.Server, b *bot.Bot, reg *prometheus.Registry, clock bot.Clock) {
	if sp == nil {
		return
	}
	srv.UseSpool(sp, handlers.SpoolOptions{
		TwilioAuthToken: env.TwilioAuthToken, PublicURL: env.PublicURL, WebhookSecret: env.WebhookSecret, Now: clock.Now,
		RecordRoute: b.RecordRoute,
	})
	reg.MustRegister(handlers.SpoolCollectors(sp)...)
}
