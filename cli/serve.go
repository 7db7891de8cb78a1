package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"ringback/bot"
	rbdiscord "ringback/bot/discord"
	rbslack "ringback/bot/slack"
	"ringback/config"
	"ringback/handlers"
	"ringback/internal/procs"
	"ringback/metrics"
	"ringback/sms"
	"ringback/store"
)

// serverGCPercent is the server's garbage collection target (GOGC, when
// set, wins). A replica's live heap is a few MB, so Go's default (collect
// each time the heap doubles) collects about ten times a second at 100
// missed calls a second, ~8 % of its CPU; collecting at five times the
// live heap costs some 25 MB more and a quarter of that work.
const serverGCPercent = 400

// serve runs the server until SIGTERM/SIGINT, then drains: the HTTP server
// stops taking requests and finishes those in flight, the outbox workers
// finish the rows they started, and the leader lease is released.
func (a *app) serve(ctx context.Context) error {
	env := config.EnvFrom(a.getenv)
	cfg, err := a.loadConfig(&env)
	if err != nil {
		return err
	}
	if ps := env.Problems(); len(ps) > 0 {
		return config.Problems(ps)
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
	if g := procs.New(a.getenv, a.log); g != nil {
		gctx, stop := context.WithCancel(ctx)
		defer stop()
		go g.Run(gctx)
	}
	if path := a.getenv("RINGBACK_CPU_PROFILE"); path != "" {
		// For measuring a load run: the profile covers the whole run and
		// is written when the server stops.
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cli: RINGBACK_CPU_PROFILE: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cli: RINGBACK_CPU_PROFILE: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if path := a.getenv("RINGBACK_ALLOC_PROFILE"); path != "" {
		// Where a load run's allocations come from (GC's share of its CPU):
		// every allocation since start, written when the server stops.
		defer func() {
			f, err := os.Create(path)
			if err != nil {
				a.log.Error("cli: RINGBACK_ALLOC_PROFILE", "error", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				a.log.Error("cli: RINGBACK_ALLOC_PROFILE", "error", err)
			}
		}()
	}
	rt, err := a.start(ctx, env, cfg, bot.SystemClock{}, nil)
	if err != nil {
		return err
	}
	return rt.wait()
}

// runtime is a running Ringback: store, workers, leader and HTTP server.
type runtime struct {
	store    *store.Store
	bot      *bot.Bot
	handlers *handlers.Server
	worker   *bot.Worker
	leader   *bot.Leader
	discord  *handlers.Discord // nil without Discord
	server   *http.Server
	listener net.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	serveErr chan error
	stopped  chan struct{}
	log      func(msg string, args ...any)
}

// replicaID names this process in lease and outbox rows: its seat (see
// seatOf), then what makes it this process.
func replicaID(seat string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%d-%s", seat, os.Getpid(), hex.EncodeToString(b[:]))
}

// seatOf names the place a replica runs in: its host and, with a webhook
// spool, the spool's directory (one per replica on a host). A process that
// restarts in the same seat takes back at once what the one before it left
// running (Spool.HoldSeat proves that one gone), instead of waiting for the
// claims' leases to lapse.
func seatOf(spoolDir string) string {
	host, _ := os.Hostname()
	if spoolDir == "" {
		return host + "-"
	}
	abs, err := filepath.Abs(spoolDir)
	if err != nil {
		abs = spoolDir
	}
	sum := sha256.Sum256([]byte(abs))
	return fmt.Sprintf("%s~%s-", host, hex.EncodeToString(sum[:4]))
}

// start wires and starts Ringback. ln, when not nil, is the listener to
// serve on (the demo listens first to learn its port); else env.Addr.
func (a *app) start(ctx context.Context, env config.Env, cfg *config.Config, clock bot.Clock, ln net.Listener) (*runtime, error) {
	a.log.Info("starting ringback", "env", env, "lines", len(cfg.Lines))
	s, err := a.openStore(ctx, env, &ln)
	if err != nil {
		return nil, err
	}
	spool, err := a.openSpool(env)
	if err != nil {
		s.Close()
		return nil, err
	}
	seat := seatOf(spool.Dir())
	id := replicaID(seat)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The connection pool: a webhook waiting for a connection is a
	// latency no statement shows. Ringback hands the connections out
	// itself, webhooks first, and counts the waits by who waited
	// (connWaitCollectors); database/sql's own stay near zero.
	reg.MustRegister(collectors.NewDBStatsCollector(s.DB().DB, "ringback"))
	reg.MustRegister(connWaitCollectors(s)...)
	reg.MustRegister(bot.OutboxCollectors()...)
	// Counted before the first scrape can come; then in the background.
	outboxRows := bot.OutboxRowsCollector(s, clock)
	if err := outboxRows.Refresh(ctx); err != nil {
		a.log.Warn("outbox gauges not counted yet; /metrics shows them from the next count", "error", err)
	}
	reg.MustRegister(outboxRows)
	m := metrics.New()
	reg.MustRegister(m.Collectors()...)

	var texter *sms.Texter
	if env.TwilioAccountSID != "" && env.TwilioAuthToken != "" {
		texter = sms.NewTexter(sms.New(env.TwilioAccountSID, env.TwilioAuthToken, env.TwilioAPIURL))
	} else {
		a.log.Warn("Twilio is not configured: texts wait in the outbox until TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set")
	}
	deps := bot.Deps{Store: s, Config: cfg, Clock: clock, Log: a.log, PublicURL: env.PublicURL, Metrics: m}
	if env.SlackBotToken != "" {
		deps.Chats = append(deps.Chats, rbslack.Platform)
	}
	if env.DiscordBotToken != "" {
		deps.Chats = append(deps.Chats, rbdiscord.Platform)
	}
	if len(deps.Chats) == 0 {
		a.log.Warn("no chat platform is configured (SLACK_BOT_TOKEN, DISCORD_BOT_TOKEN): cases are recorded but no cards are posted")
	}
	if texter != nil {
		deps.Texter = texter
	}
	b := bot.New(deps)
	if err := b.SyncTemplates(ctx); err != nil {
		s.Close()
		return nil, err
	}
	worker := bot.NewWorker(s, clock, id, a.log)
	if s.Dialect() == "sqlite" {
		// SQLite has one connection: the rest pool runs one row at a
		// time (sqliteLanes).
		sqliteLanes(worker)
		// One process works an embedded store: a heartbeat queued behind
		// webhooks for the one connection must not let a claim lapse and
		// run a row twice, and rows a crashed run left are taken at once.
		worker.SetLease(sqliteOutboxLease)
		if n, err := s.ReleaseOutboxClaims(ctx, ""); err != nil {
			s.Close()
			return nil, err
		} else if n > 0 {
			a.log.Info("outbox rows left running by a previous run are taken again", "count", n)
		}
	}
	if spool != nil && spool.HoldSeat() {
		if n, err := s.ReleaseOutboxClaims(ctx, seat); err != nil {
			a.log.Warn("outbox rows a previous process of this replica left running wait for their lease", "error", err)
		} else if n > 0 {
			a.log.Info("outbox rows a previous process of this replica left running are taken again", "count", n)
		}
	}
	sizeOutbox(worker, cfg.Outbox)
	b.Register(worker)
	leader := bot.NewLeader(s, id, a.log).WithMetrics(m)
	srv := handlers.New(handlers.Deps{Store: s, Log: a.log, Registry: reg, Metrics: m})
	srv.MountTwilio(b, env.TwilioAuthToken, env.PublicURL)
	srv.MountCalls(b, env.WebhookSecret, clock.Now)
	srv.MountAPI(b, cfg)
	srv.MountCallbacks(b, env.PublicURL, clock.Now)
	a.useSpool(spool, env, srv, b, reg, clock)
	var slackDispatch *handlers.Slack
	var slackAdapter *rbslack.Adapter
	var discordDispatch *handlers.Discord
	var discordAdapter *rbdiscord.Adapter
	if env.DiscordBotToken != "" {
		channels := map[string]string{}
		for _, l := range cfg.Lines {
			if l.DiscordChannel != "" {
				channels[l.Number] = l.DiscordChannel
			}
		}
		discordAdapter = rbdiscord.New(env.DiscordBotToken, env.DiscordAppID, env.DiscordAPIURL, b, channels, a.log,
			rbdiscord.WithManagers(cfg.Discord.Managers...), rbdiscord.WithDigestChannel(cfg.Discord.DigestChannel),
			rbdiscord.WithStaffRole(cfg.Discord.StaffRole), rbdiscord.WithGuild(cfg.Discord.Guild))
		b.RegisterChat(worker, discordAdapter)
		if env.DiscordPublicKey != "" {
			if discordDispatch, err = handlers.NewDiscord(b, discordAdapter, env.DiscordPublicKey, a.log); err != nil {
				s.Close()
				return nil, err
			}
			srv.MountDiscord(discordDispatch)
		} else {
			a.log.Warn("DISCORD_PUBLIC_KEY is not set: Discord cards are posted but clicks and /callbacks are refused")
		}
	}
	if env.SlackBotToken != "" {
		slackAdapter = rbslack.New(env.SlackBotToken, env.SlackAppToken, env.SlackAPIURL, b, a.log)
		b.RegisterChat(worker, slackAdapter)
		slackDispatch = handlers.NewSlack(b, slackAdapter, a.log)
		if env.SlackSigningSecret != "" {
			srv.MountSlack(slackDispatch, env.SlackSigningSecret)
		}
	}

	if ln == nil {
		if ln, err = net.Listen("tcp", env.Addr); err != nil {
			s.Close()
			return nil, fmt.Errorf("cli: listen on %s: %w", env.Addr, err)
		}
	}
	rt := &runtime{
		store:    s,
		bot:      b,
		handlers: srv,
		worker:   worker,
		leader:   leader,
		listener: ln,
		serveErr: make(chan error, 1),
		stopped:  make(chan struct{}),
		log:      a.log.Info,
		server: &http.Server{
			Handler:           srv,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rt.cancel = cancel
	rt.wg.Add(3)
	go func() { defer rt.wg.Done(); worker.Run(bg) }()
	go func() {
		defer rt.wg.Done()
		runEvery(bg, bot.OutboxRowsEvery, func() {
			rctx, cancel := context.WithTimeout(bg, bot.OutboxRowsEvery)
			defer cancel()
			if err := outboxRows.Refresh(rctx); err != nil && bg.Err() == nil {
				a.log.Info("outbox gauges not refreshed; /metrics shows the last counts", "error", err)
			}
		})
	}()
	go func() {
		defer rt.wg.Done()
		leader.Run(bg, func(lctx context.Context) {
			// Waited for: the gauges it clears at the term's end must not
			// clear the next term's.
			var backlog sync.WaitGroup
			backlog.Go(func() { b.RunBacklog(lctx, bot.BacklogEvery) })
			defer backlog.Wait()
			if texter != nil {
				go runReconciler(lctx, b, texter, a.log)
				go runReceiptAsker(lctx, b, texter, a.log)
			}
			go b.RunWebhookFanOut(lctx, time.Second)
			b.RunTimers(lctx, 5*time.Second)
		})
	}()
	rt.discord = discordDispatch
	if discordAdapter != nil && env.DiscordAppID != "" {
		go func() {
			if err := discordAdapter.RegisterCommands(bg); err != nil {
				a.log.Warn("discord: /callbacks not registered", "error", err)
			}
		}()
	}
	if slackAdapter != nil {
		go slackAdapter.Start(bg)
		if env.SlackAppToken != "" {
			rt.wg.Add(1)
			go func() {
				defer rt.wg.Done()
				// It returns only with an error; one after shutdown is expected.
				err := slackDispatch.RunSocketMode(bg, slackAdapter.API())
				if bg.Err() == nil {
					a.log.Error("slack socket mode stopped", "error", err)
				}
			}()
		}
	}
	if spool != nil {
		rt.wg.Add(1)
		go func() { defer rt.wg.Done(); srv.RunSpool(bg) }()
	}
	go func() { rt.serveErr <- rt.server.Serve(ln) }()
	a.log.Info("listening", "addr", ln.Addr().String(), "database", s.Dialect(), "replica", id)

	go func() {
		<-ctx.Done()
		rt.shutdown()
	}()
	return rt, nil
}

// shutdown drains in order: no new requests, in-flight requests finish,
// then background work finishes what it started.
func (rt *runtime) shutdown() {
	rt.log("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := rt.server.Shutdown(sctx); err != nil {
		rt.log("http shutdown incomplete", "error", err)
	}
	if rt.discord != nil {
		rt.discord.Wait() // deferred interaction answers finish first
	}
	rt.cancel()
	rt.wg.Wait()
	rt.store.Close()
	rt.log("stopped")
	close(rt.stopped)
}

// wait blocks until the server has stopped.
func (rt *runtime) wait() error {
	err := <-rt.serveErr
	if errors.Is(err, http.ErrServerClosed) {
		// Shutdown closes the listener first; wait until draining ends.
		<-rt.stopped
		return nil
	}
	return err
}

// loadConfig reads RINGBACK_CONFIG. When it is unset and there is no
// ringback.yaml yet, the shipped example is used, so that a fresh clone runs.
func (a *app) loadConfig(env *config.Env) (*config.Config, error) {
	if a.getenv("RINGBACK_CONFIG") == "" {
		if _, err := os.Stat(env.ConfigPath); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(exampleConfig); err == nil {
				a.log.Warn("no ringback.yaml: using the example config; copy and adapt it", "config", exampleConfig)
				env.ConfigPath = exampleConfig
			}
		}
	}
	return config.Load(env.ConfigPath)
}

const exampleConfig = "ringback.example.yaml"

// sqliteLanes sizes the outbox's lanes for an embedded store: texts and
// posts run as many at once as on PostgreSQL (a missed call holds a chat
// slot for ~450 ms of Slack's time: its card, its thread entry, the
// entry's edit on the text's receipt), the rest pool one row at a time. A
// slot waiting on a remote holds no connection, and webhooks get the one
// connection first (store.Foreground). Measured with cmd/ringback-load
// -find-max: 32 texts and 96 posts (~210 calls a second of Slack time)
// stopped SQLite at 196 calls a second on card p99 (1.1 s at 206/s); 64 and
// 256 at 225, on ack p99 (30 ms at 237/s), before webhooks went first.
// Earlier, 16 and 40 capped it at 125, and 2 texts and 1 post at once lost
// texts for 30 s.
func sqliteLanes(w *bot.Worker) { w.SetLane(bot.LaneRest, 1) }

// sizeOutbox gives the outbox's lanes the concurrency the config asks for
// (outbox.sms_concurrency, outbox.chat_concurrency); what it leaves out
// keeps the store's defaults.
func sizeOutbox(w *bot.Worker, o config.Outbox) {
	if o.SMSConcurrency > 0 {
		w.SetLane(store.LaneSMS, o.SMSConcurrency)
	}
	if o.ChatConcurrency > 0 {
		w.SetLane(store.LaneSlack, o.ChatConcurrency)
		w.SetLane(store.LaneDiscord, o.ChatConcurrency)
	}
}

// sqliteOutboxLease is how long a claim lasts without a heartbeat on SQLite.
const sqliteOutboxLease = time.Minute

// askReceiptsEvery is how often the leader asks Twilio about texts whose
// final receipt never came (bot.AskReceipts); each pass resumes from its
// watermark, so a failed pass or a new leader loses nothing (up to 24 h).
const askReceiptsEvery = time.Minute

func runReceiptAsker(ctx context.Context, b *bot.Bot, asker bot.ReceiptAsker, log *slog.Logger) {
	runEvery(ctx, askReceiptsEvery, func() {
		asked, moved, err := b.AskReceipts(ctx, asker)
		if err != nil && ctx.Err() == nil {
			log.Warn("asking about texts whose receipt never came failed: the next pass asks again", "error", err)
		} else if asked > 0 {
			log.Info("asked about texts whose receipt never came", "asked", asked, "moved", moved)
		}
	})
}

// runEvery runs pass at once and then every d, until ctx ends.
func runEvery(ctx context.Context, d time.Duration, pass func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		pass()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconcileEvery is how often the leader asks Twilio for calls whose
// webhook never arrived. Each pass resumes from the watermark the previous
// one left in the store, so a failed pass, an outage or a new leader loses
// nothing (up to 24 h).
const reconcileEvery = 3 * time.Minute

func runReconciler(ctx context.Context, b *bot.Bot, lister bot.CallLister, log *slog.Logger) {
	runEvery(ctx, reconcileEvery, func() {
		n, err := b.Reconcile(ctx, lister)
		if err != nil && ctx.Err() == nil {
			log.Warn("reconcile failed: calls whose webhook never arrived wait for the next pass", "error", err)
		} else if n > 0 {
			log.Info("reconcile ingested missed calls", "count", n)
		}
	})
}

// connWaitCollectors count the waits for a connection (SQLite's one,
// PostgreSQL's pool) by who waited, who waits now, and how long each
// class held one.
func connWaitCollectors(s *store.Store) []prometheus.Collector {
	var cs []prometheus.Collector
	for _, class := range []store.ConnClass{store.ConnForeground, store.ConnTexts, store.ConnBackground} {
		labels := prometheus.Labels{"class": class.String()}
		cs = append(cs,
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "ringback_connection_waits_total", ConstLabels: labels,
				Help: "Statements that waited for a database connection: foreground (webhooks, button presses, the outbox's heartbeats and marks) go first, then texts (the text lane's claims and rows), then background.",
			}, func() float64 { return float64(s.ConnWaits(class).Count) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "ringback_connection_wait_seconds_total", ConstLabels: labels,
				Help: "Time statements spent waiting for a database connection.",
			}, func() float64 { return s.ConnWaits(class).Total.Seconds() }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "ringback_connection_held_seconds_total", ConstLabels: labels,
				Help: "Time statements held a database connection: what occupies the database (on SQLite, its one connection's busy time).",
			}, func() float64 { return s.ConnHeld(class).Seconds() }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "ringback_connection_waiting", ConstLabels: labels,
				Help: "Statements waiting for a database connection now.",
			}, func() float64 { return float64(s.ConnWaiting(class)) }))
	}
	return cs
}
