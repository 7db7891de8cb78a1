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

	"ringback/bot"
	"ringback/config"
	"ringback/handlers/sandbox"
)

// demo runs Ringback's main job with nothing from outside: the real server
// on a fresh embedded store with the example config, whose Slack and
// Twilio are the sandbox served by the same process.
//
//	ringback demo [--addr 127.0.0.1:8080] [--db PATH] [--keep] [--config PATH]
func (a *app) demo(ctx context.Context, args []string) error {
	fs := newFlags("demo", a.stderr)
	var o demoOptions
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.db, "db", "", "SQLite file (or postgres:// URL) for the demo's data; default: a fresh file in a temp directory")
	fs.BoolVar(&o.keep, "keep", false, "keep the fresh demo database when the demo stops")
	fs.StringVar(&o.config, "config", "", "business config; default: "+exampleConfig+" found from the working directory")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "ringback demo: unexpected argument %q\n", fs.Arg(0))
		return errReported
	}
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
	cfgPath := o.config
	if cfgPath == "" {
		var err error
		if cfgPath, err = findExampleConfig(); err != nil {
			return nil, err
		}
	}
	cfg, err := config.Load(cfgPath)
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
	sb.Mount(rt.handlers)
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

// findExampleConfig looks for the example config in the working directory
// and its parents up to the module root, so `go run . demo` and tests in
// a package directory both find it.
func findExampleConfig() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cli: demo: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, exampleConfig)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil || filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("cli: demo: %s not found in %s or its parents up to the module root: run the demo from the repository, or pass --config PATH", exampleConfig, wd)
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
