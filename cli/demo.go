package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"ringback/bot"
	rbslack "ringback/bot/slack"
	"ringback/config"
	"ringback/handlers/sandbox"
	"ringback/store"
)

// ExampleConfig is ringback.example.yaml, which the demo runs on unless
// --config names another file. Package main embeds it and sets this (a
// package cannot embed a file above its own folder), so the binary's demo
// runs from any folder.
var ExampleConfig []byte

// demoCmd runs Ringback's main job with nothing from outside: the real
// server on a fresh embedded store with the example config, whose Slack
// and Twilio are the sandbox served by the same process.
func (a *app) demoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "try Ringback in a browser sandbox: no Slack or Twilio account needed",
		Long: `Runs the real server on a fresh SQLite file with the example config
(built in; --config names another), and serves a sandbox page standing in
for Slack, Twilio and a caller's phone. Open the URL it prints.

The address is --addr, else RINGBACK_ADDR, else 127.0.0.1:8080.`,
		Example: `  ringback demo
  RINGBACK_ADDR=127.0.0.1:9090 ringback demo
  ringback demo --db demo.db --keep --config ringback.yaml`,
		Args: noArgs,
	}
	addr := a.getenv("RINGBACK_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	var o demoOptions
	fs := cmd.Flags()
	fs.StringVar(&o.addr, "addr", addr, "address to listen on (default from RINGBACK_ADDR when set)")
	fs.StringVar(&o.db, "db", "", "SQLite file (or postgres:// URL) for the demo's data; default: a fresh file in a temp directory")
	fs.BoolVar(&o.keep, "keep", false, "keep the fresh demo database when the demo stops")
	fs.StringVar(&o.config, "config", "", "business config; default: the built-in example (ringback.example.yaml)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.demo(cmd.Context(), o) }
	return cmd
}

// demo starts the demo and waits until it stops.
func (a *app) demo(ctx context.Context, o demoOptions) error {
	d, err := a.startDemo(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Ringback demo: open %s/\n", d.url)
	return d.wait()
}

type demoOptions struct {
	addr   string
	db     string
	keep   bool
	config string
}

// runningDemo is Ringback and its sandbox, serving.
type runningDemo struct {
	url     string
	rt      *runtime
	sandbox *sandbox.Sandbox
	clock   *bot.OffsetClock
	dbPath  string // the SQLite file; "" on PostgreSQL
	tmpDir  string // removed when the demo stops, unless kept
	keep    bool
	done    chan struct{} // closed when the sandbox has stopped
	log     func(msg string, args ...any)
}

// startDemo starts Ringback on o.addr with the sandbox mounted on the same
// server; it stops when ctx ends (then wait returns).
func (a *app) startDemo(ctx context.Context, o demoOptions) (*runningDemo, error) {
	cfgPath, cfg, err := demoConfig(o.config)
	if err != nil {
		return nil, err
	}
	d := &runningDemo{keep: o.keep, clock: bot.NewOffsetClock(), log: a.log.Info}
	dbURL := o.db
	switch {
	case dbURL == "":
		if d.tmpDir, err = os.MkdirTemp("", "ringback-demo-"); err != nil {
			return nil, fmt.Errorf("cli: demo: temp dir: %w", err)
		}
		d.dbPath = filepath.Join(d.tmpDir, "demo.db")
		dbURL = "sqlite:" + d.dbPath
	case strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://"):
	default:
		d.dbPath = strings.TrimPrefix(dbURL, "sqlite:")
		dbURL = "sqlite:" + d.dbPath
	}
	fail := func(err error) (*runningDemo, error) {
		d.removeTemp()
		return nil, err
	}

	if err := quietFirstDigest(ctx, dbURL, cfg, d.clock.Now()); err != nil {
		return fail(err)
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fail(fmt.Errorf("cli: demo: listen on %s (another demo running? pick a port with --addr): %w", o.addr, err))
	}
	d.url = "http://" + loopbackAddr(ln.Addr())
	if !sandbox.IsLoopbackAddr(o.addr) {
		// The sandbox acts as staff and callers with no login: it answers
		// only browsers on this machine, whatever address it listens on.
		a.log.Warn("demo: listening beyond this machine; the sandbox page answers only http://127.0.0.1 and http://localhost", "addr", o.addr)
	}
	// Fresh secrets each run: the sandbox signs with them, Ringback checks.
	vars := map[string]string{
		"PUBLIC_URL":              d.url,
		"RINGBACK_ADDR":           ln.Addr().String(),
		"DATABASE_URL":            dbURL,
		"SLACK_BOT_TOKEN":         "xoxb-demo-" + randomHex(24),
		"SLACK_SIGNING_SECRET":    randomHex(32),
		"SLACK_API_URL":           d.url + sandbox.SlackAPIPath,
		"TWILIO_ACCOUNT_SID":      "AC" + randomHex(32),
		"TWILIO_AUTH_TOKEN":       randomHex(32),
		"TWILIO_API_URL":          d.url + sandbox.TwilioAPIPath,
		"RINGBACK_WEBHOOK_SECRET": randomHex(32),
		"RINGBACK_CONFIG":         cfgPath,
	}
	env := config.EnvFrom(func(k string) string { return vars[k] })
	if problems := config.Problems(env.Problems()); len(problems) > 0 {
		ln.Close()
		return fail(problems)
	}

	sb, err := sandbox.New(sandbox.Options{
		BaseURL: d.url, Config: cfg, Clock: d.clock, Log: a.log,
		SlackToken: env.SlackBotToken, SigningSecret: env.SlackSigningSecret,
		AccountSID: env.TwilioAccountSID, AuthToken: env.TwilioAuthToken,
	})
	if err != nil {
		ln.Close()
		return fail(err)
	}
	d.sandbox = sb
	// Ringback calls Slack (auth.test) as it starts; connections wait in
	// the listen queue until the stand-ins are mounted.
	gate := newGatedListener(ln)
	rt, err := a.start(ctx, env, cfg, d.clock, gate)
	if err != nil {
		sb.Close()
		ln.Close()
		return fail(err)
	}
	d.rt = rt
	sb.SetPending(func(ctx context.Context, now time.Time) (bool, time.Time, error) {
		busy, err := rt.store.OutboxBusy(ctx, now)
		if err != nil {
			return false, time.Time{}, err
		}
		next, err := rt.store.NextOutboxRun(ctx)
		if err != nil {
			return false, time.Time{}, err
		}
		return busy, next, nil
	})
	sb.Mount(rt.handlers)
	// The sandbox shows the caller's picker on its phone, in a frame.
	rt.handlers.FrameCallbacksInPage()
	// Slack's file upload URL must be on the API's host (slack-go sends the
	// token nowhere else), so it is served here; but it stands for Slack's
	// server, not Ringback's, whose 64 KiB cap on request bodies would refuse
	// the digest's chart. Set before the gate opens, so no request reads it.
	rt.server.Handler = bypass(rt.server.Handler, sandbox.SlackUploadPrefix, sb.Slack().Handler())
	gate.open()
	d.done = make(chan struct{})
	go func() {
		defer close(d.done)
		sb.Run(ctx)
	}()
	a.log.Info("demo ready", "url", d.url+"/", "config", cfgPath, "database", d.dbPath, "keep", d.keep || d.tmpDir == "")
	return d, nil
}

// quietFirstDigest keeps a fresh demo from posting the digest of the week
// before it started, which can only be all zeros: on a database with no
// outbox row yet, that digest's rows are written as already canceled, so
// the scheduler's enqueue (same dedupe key) finds them and posts nothing.
// Later weeks, which hold the demo's calls, post as usual.
func quietFirstDigest(ctx context.Context, dbURL string, cfg *config.Config, now time.Time) error {
	if cfg.Digest.Channel == "" {
		return nil
	}
	s, err := openAndMigrate(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("cli: demo: %w", err)
	}
	defer s.Close()
	counts, err := s.OutboxCounts(ctx)
	if err != nil {
		return fmt.Errorf("cli: demo: %w", err)
	}
	for _, n := range counts {
		if n > 0 {
			return nil // not the first start
		}
	}
	job := bot.LastWeeksDigest(now, cfg.Business.Timezone)
	return s.InTx(ctx, func(tx *store.Tx) error {
		key := bot.DigestKey(rbslack.Platform, job.Label)
		if _, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: bot.KindDigest + "." + rbslack.Platform, DedupeKey: key, Payload: job}, now); err != nil {
			return err
		}
		_, err := tx.CancelOutbox(ctx, key, now, "demo: the week before the demo started has no calls")
		return err
	})
}

// wait blocks until the demo has stopped and its temp database is gone.
func (d *runningDemo) wait() error {
	err := d.rt.wait()
	<-d.done
	d.removeTemp()
	return err
}

func (d *runningDemo) removeTemp() {
	if d.tmpDir == "" {
		return
	}
	if d.keep {
		d.log("demo database kept", "path", d.dbPath)
		return
	}
	if err := os.RemoveAll(d.tmpDir); err != nil {
		d.log("demo database not removed", "path", d.tmpDir, "error", err)
	}
}

// bypass sends requests under prefix to far, the rest to h.
func bypass(h http.Handler, prefix string, far http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			far.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// demoConfig is the config at path, or the built-in example when path is
// "", with the name it is logged under.
func demoConfig(path string) (string, *config.Config, error) {
	if path != "" {
		cfg, err := config.Load(path)
		return path, cfg, err
	}
	if len(ExampleConfig) == 0 {
		return "", nil, errors.New("cli: demo: this build has no built-in example config: pass --config PATH")
	}
	cfg, err := config.Parse(ExampleConfig)
	if err != nil {
		return "", nil, fmt.Errorf("cli: demo: built-in example: %w", err)
	}
	return "ringback.example.yaml (built in)", cfg, nil
}

// loopbackAddr is addr as a browser on this machine reaches it: an
// unspecified host (":8080", "0.0.0.0") becomes 127.0.0.1.
func loopbackAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// gatedListener accepts no connection until opened: connections made
// before then wait in the kernel's queue instead of meeting missing routes.
type gatedListener struct {
	net.Listener
	ready    chan struct{}
	closed   chan struct{}
	once     sync.Once
	openOnce sync.Once
}

func newGatedListener(ln net.Listener) *gatedListener {
	return &gatedListener{Listener: ln, ready: make(chan struct{}), closed: make(chan struct{})}
}

func (l *gatedListener) open() { l.openOnce.Do(func() { close(l.ready) }) }

func (l *gatedListener) Accept() (net.Conn, error) {
	select {
	case <-l.ready:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	return l.Listener.Accept()
}

func (l *gatedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	err := l.Listener.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// randomHex is n random hex digits (n even).
func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
