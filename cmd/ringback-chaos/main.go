// Command ringback-chaos runs Ringback as an operator would — several
// replicas of the real binary on PostgreSQL — through crashes, a database
// restart and remote outages, and counts what callers and staff would see
// lost, twice, or never.
//
//	go run ./cmd/ringback-chaos          # full: 2,000 calls at 40/s
//	go run ./cmd/ringback-chaos -short   # CI: 300 calls at 10/s, 3 kills
//
// It creates a private PostgreSQL cluster (initdb in a temporary folder, as
// the postgres OS user when run as root, on a free port of 127.0.0.1),
// builds ringback once and starts -replicas `ringback serve` processes on
// it, each restarted by a supervisor whenever it ends. Slack and Twilio are
// the in-process stand-ins (bot/slack/slackstandin, sms/twiliostandin)
// behind a wrapper that fails (500, 503), hangs and rate-limits (429 with
// Retry-After) on a schedule. Callers are then played open-loop as Twilio
// plays them: signed missed-call status callbacks round-robin over the
// replicas, repeat calls, some callers ringing both lines at once, and SMS
// replies (a triage digit or words) once the text-back arrived; a webhook
// that gets no 2xx is retried a bounded number of times. Meanwhile a random
// replica is SIGKILLed every 5–8 s, PostgreSQL is restarted once
// (pg_ctl restart -m fast), Slack has an outage (500s, then 429s), a hang
// and a 429 storm, and Twilio answers 503 for a while.
//
// When the traffic is over it waits (bounded by -settle) until the outbox
// is empty and the stand-ins are quiet, then prints per kind — text-back
// (SMS to the caller), card (the case's top-level Slack message), thread
// entry (Ringback's own lines in the card's thread) and caller SMS (a
// caller's text shown in the thread) — how many were expected, lost,
// duplicated, dead (outbox rows that gave up) and still pending, and the
// ack→text latency: from the first 2xx to a caller's call to the moment the
// Twilio stand-in accepted the text-back. It exits 1 on any loss,
// duplicate or dead row (-report-only: 0), 2 on bad flags.
//
// Only 127.0.0.1 is contacted. Every wait is bounded; the command stops by
// itself, and on Ctrl-C stops its processes and removes its cluster.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"ringback/bot/slack/slackstandin"
	"ringback/cmd/internal/harness"
	"ringback/sms/twiliostandin"
)

// options are the command's flags, validated.
type options struct {
	profile    profile
	short      bool
	replicas   int
	seed       uint64
	settle     time.Duration
	target     time.Duration // ack→text the report holds the run to
	latency    time.Duration // the Twilio stand-in's answer time
	reportOnly bool
	verbose    bool
	logLevel   string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return harness.Main("ringback-chaos", args, stderr, parseFlags, func(ctx context.Context, o options) int {
		return runChaos(ctx, o, stdout, stderr)
	})
}

// runChaos runs the chaos and writes its report; 1 when the verdict is not
// clean (unless -report-only) or the run failed.
func runChaos(ctx context.Context, o options, stdout, stderr io.Writer) int {
	rep, err := chaos(ctx, o, stderr)
	if rep != nil {
		rep.write(stdout, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ringback-chaos: %v\n", err)
		return 1
	}
	if !rep.verdict.clean() && !o.reportOnly {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("ringback-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "the CI profile: 300 calls at 10/s, 3 kills, one database restart (2 s down, a kill meanwhile), a 10 s 429 storm")
	calls := fs.Int("calls", 0, "callers to play (default: 2000, or 300 with -short)")
	rate := fs.Int("rate", 0, "first calls per second (default: 40, or 10 with -short)")
	replicas := fs.Int("replicas", 2, "ringback serve processes")
	retryAfter := fs.Int("retry-after", 1, "Retry-After seconds of every 429 the stand-ins send")
	seed := fs.Uint64("seed", 0, "random seed of the schedule and the callers (0: from the clock; printed)")
	settle := fs.Duration("settle", 0, "longest wait, after the traffic, for the outbox to empty (default: 3m, or 75s with -short)")
	target := fs.Duration("ack-to-text", 15*time.Second, "ack→text the report holds the run to")
	latency := fs.Duration("twilio-latency", 20*time.Millisecond, "the Twilio stand-in's answer time")
	dbDown := fs.Duration("db-down", -1, "how long PostgreSQL stays stopped in its restart, with a replica killed halfway (default: 3s, or 2s with -short; 0: pg_ctl restart, as short as the machine makes it, and no kill of its own)")
	noFaults := fs.Bool("no-faults", false, "the same traffic with no fault at all: a baseline, which must be clean too")
	reportOnly := fs.Bool("report-only", false, "exit 0 even when something was lost, duplicated or dead")
	verbose := fs.Bool("v", false, "stream the replicas' warnings and errors to stderr")
	logLevel := fs.String("log-level", "warn", "the replicas' RINGBACK_LOG_LEVEL (with -v: info shows the spool and outbox at work)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/ringback-chaos [-short] [flags]\n\n"+
			"Runs ringback replicas on a private PostgreSQL cluster through SIGKILLs, a database\n"+
			"restart and Slack/Twilio outages, and prints what was lost, duplicated or dead.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o := options{
		profile: fullProfile, short: *short, replicas: *replicas, seed: *seed, settle: *settle,
		target: *target, latency: *latency, reportOnly: *reportOnly, verbose: *verbose, logLevel: *logLevel,
	}
	if o.short {
		o.profile = shortProfile
	}
	if *dbDown >= 0 {
		o.profile.dbDown = *dbDown
	}
	if *noFaults {
		o.profile.killMin, o.profile.killMax, o.profile.kills = 0, 0, 0
		o.profile.slackDown, o.profile.twilioDown, o.profile.slackHang, o.profile.storm = 0, 0, 0, 0
		o.profile.dbRestart = false
	}
	if *calls != 0 {
		o.profile.calls = *calls
	}
	if *rate != 0 {
		o.profile.rate = *rate
	}
	o.profile.retryAfter = *retryAfter
	if o.settle == 0 {
		o.settle = 3 * time.Minute
		if o.short {
			o.settle = 75 * time.Second
		}
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	switch {
	case o.profile.calls < 1 || o.profile.calls > 20000:
		return o, fmt.Errorf("-calls %d: want 1 to 20000", o.profile.calls)
	case o.profile.rate < 1 || o.profile.rate > 500:
		return o, fmt.Errorf("-rate %d: want 1 to 500", o.profile.rate)
	case o.replicas < 1 || o.replicas > 8:
		return o, fmt.Errorf("-replicas %d: want 1 to 8", o.replicas)
	case o.profile.retryAfter < 0 || o.profile.retryAfter > 60:
		return o, fmt.Errorf("-retry-after %d: want 0 to 60", o.profile.retryAfter)
	case o.settle < time.Second || o.settle > 30*time.Minute:
		return o, fmt.Errorf("-settle %s: want 1s to 30m", o.settle)
	case o.latency < 0 || o.latency > 10*time.Second:
		return o, fmt.Errorf("-twilio-latency %s: want 0 to 10s", o.latency)
	case o.profile.offered() > 20*time.Minute:
		return o, fmt.Errorf("-calls %d at -rate %d take %s; at most 20m", o.profile.calls, o.profile.rate, o.profile.offered())
	}
	return o, nil
}

// report is what a run prints.
type report struct {
	plan                           plan
	calls, repeats, texts          int64
	attempts, retried, gaveUp      int64
	acks                           harness.Summary
	kills, restarts, crashes, fail int
	injected                       map[string]int
	settled                        bool
	settleTook                     time.Duration
	verdict                        verdict
	wall                           time.Duration
	slackCalls                     map[string]int // Slack API calls by method, to see what the run cost
}

// chaos sets everything up, plays the traffic, waits for the system to
// settle and judges it. It tears down whatever it started, whatever happens.
func chaos(ctx context.Context, o options, logw io.Writer) (_ *report, err error) {
	began := time.Now()
	say := func(format string, args ...any) {
		fmt.Fprintf(logw, "chaos: "+format+"\n", args...)
	}
	rng := rand.New(rand.NewPCG(o.seed, 0))
	pl := makePlan(o.profile, rng)
	rep := &report{plan: pl}

	work, err := os.MkdirTemp("", "ringback-chaos-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(work)
	root, err := harness.ModuleRoot(ctx)
	if err != nil {
		return nil, err
	}
	say("building ringback from %s", root)
	bin, err := harness.Build(ctx, root, work)
	if err != nil {
		return nil, err
	}
	say("creating a PostgreSQL cluster")
	cl, err := harness.NewCluster(ctx)
	if cl != nil {
		defer func() {
			if rerr := cl.Remove(); rerr != nil {
				say("removing the cluster: %v", rerr)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	db, err := openDatabase(cl.URL)
	if err != nil {
		return nil, err
	}
	defer db.close()

	// The remotes, each behind its fault wrapper on a listener of its own.
	accountSID, authToken := "AC"+harness.RandomHex(32), harness.RandomHex(32)
	tw := twiliostandin.NewServer(accountSID, authToken)
	defer tw.Close()
	tw.SetLatency(o.latency)
	botToken := "xoxb-chaos-" + harness.RandomHex(16)
	sl := slackstandin.New(botToken)
	clk := &clock{}
	done := make(chan struct{})
	slackFaults := newFaulty(remoteSlack, sl.Handler(), pl, clk, done)
	twilioFaults := newFaulty(remoteTwilio, tw.Handler(), pl, clk, done)
	slackFront := httptest.NewServer(slackFaults)
	twilioFront := httptest.NewServer(twilioFaults)
	sl.SetBaseURL(slackFront.URL)
	defer func() {
		close(done)
		slackFront.Close()
		twilioFront.Close()
	}()

	// The replicas share the public URL a load balancer would have; webhooks
	// are signed over it and sent to each replica directly.
	cfg := filepath.Join(work, "ringback.yaml")
	example, err := os.ReadFile(filepath.Join(root, "ringback.example.yaml"))
	if err != nil {
		return nil, fmt.Errorf("example config: %w", err)
	}
	if err := os.WriteFile(cfg, example, 0o644); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var addrs []string
	for range o.replicas {
		a, err := harness.FreeAddr()
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a)
	}
	publicURL := "http://" + addrs[0]
	var logTo io.Writer
	if o.verbose {
		logTo = logw
	}
	rs := &replicas{bin: bin, logTo: logTo, say: say}
	defer rs.stop()
	for i, a := range addrs {
		// Each replica has a working directory (and so a webhook spool) of
		// its own, as it would on its own machine.
		dir := filepath.Join(work, fmt.Sprintf("replica-%d", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("replica directory: %w", err)
		}
		env := harness.ServerEnv(
			"DATABASE_URL="+cl.URL,
			"RINGBACK_ADDR="+a,
			"PUBLIC_URL="+publicURL,
			"RINGBACK_CONFIG="+cfg,
			"TWILIO_ACCOUNT_SID="+accountSID,
			"TWILIO_AUTH_TOKEN="+authToken,
			"TWILIO_API_URL="+twilioFront.URL,
			"SLACK_BOT_TOKEN="+botToken,
			"SLACK_SIGNING_SECRET="+harness.RandomHex(32),
			"SLACK_API_URL="+slackFront.URL+"/",
			"RINGBACK_LOG_LEVEL="+o.logLevel,
		)
		if err := rs.add(ctx, a, dir, env); err != nil {
			return nil, err
		}
	}
	say("%d replicas up on %s; seed %d", o.replicas, strings.Join(addrs, ", "), o.seed)
	for _, w := range pl.windows {
		say("plan: %s", w)
	}

	// Traffic and faults.
	scripts := makeScripts(o.profile.calls, o.profile.rate, rng)
	tr := newTraffic(rs.urls(), tw, accountSID, authToken, publicURL, o.seed)
	start := time.Now()
	clk.begin(start)
	event := func(format string, args ...any) {
		say("%6.1fs %s", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	fctx, stopFaults := context.WithCancel(ctx)
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		injectFaults(fctx, pl, start, rs, cl, rand.New(rand.NewPCG(o.seed, 2)), event)
	}()
	say("playing %d callers at %d/s", o.profile.calls, o.profile.rate)
	tr.play(ctx, scripts, rng)
	stopFaults()
	fwg.Wait()
	event("traffic over")
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}

	// Settle: the outbox empty and the stand-ins quiet for a few seconds.
	settleStart := time.Now()
	rep.settled = settle(ctx, db, tw, sl, tr, o.settle)
	rep.settleTook = time.Since(settleStart)
	event("settled: %v after %s", rep.settled, rep.settleTook.Round(time.Second))

	obs := observed{callers: tr.callers, start: start}
	rep.slackCalls = map[string]int{}
	for _, m := range []string{"chat.postMessage", "chat.update", "conversations.history", "conversations.replies"} {
		rep.slackCalls[m] = sl.Calls(m)
	}
	for _, m := range tw.Messages() {
		obs.texts = append(obs.texts, sentText{from: m.From, to: m.To, at: m.At, sid: m.SID, body: m.Body})
	}
	obs.posts = slackPosts(sl)
	qctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if obs.cases, err = db.cases(qctx); err != nil {
		return nil, err
	}
	if obs.dead, err = db.dead(qctx); err != nil {
		return nil, err
	}
	if obs.pending, err = db.unsettled(qctx); err != nil {
		return nil, err
	}
	obs.receipted = tr.answeredReceipts()
	obs.receiptsGivenUp = int(tr.receipts.gaveUp.Load())
	obs.lateSent = int(tr.receipts.lateSent.Load())
	if obs.stored, err = db.texts(qctx); err != nil {
		return nil, err
	}
	obs.logged = rs.loggedNumbers()
	rep.verdict = judge(obs)
	for _, id := range rep.verdict.Receipts.StaleCases {
		// What the stale card's case and its rows did, while the cluster
		// is still there to ask.
		trail, err := db.caseTrail(qctx, id)
		if err != nil {
			say("case %d: %v", id, err)
		}
		for _, p := range obs.posts {
			if p.caseID == id && p.threadTS == "" {
				trail = append(trail, fmt.Sprintf("its card %s says: %.400q", p.ts, p.text))
			}
		}
		say("case %d, whose card does not show its text-back delivered:\n  %s", id, strings.Join(trail, "\n  "))
	}
	rep.calls, rep.repeats, rep.texts = tr.calls.Load(), tr.repeats.Load(), tr.smsSent.Load()
	rep.attempts, rep.retried, rep.gaveUp = tr.attempts.Load(), tr.retried.Load(), tr.gaveUp.Load()
	rep.acks = harness.Summarize(tr.acks)
	rs.mu.Lock()
	rep.kills, rep.restarts, rep.crashes, rep.fail = rs.kills, rs.restarts, rs.crashes, rs.failed
	rs.mu.Unlock()
	rep.injected = map[string]int{}
	for k, v := range slackFaults.counts() {
		rep.injected["slack "+k] = v
	}
	for k, v := range twilioFaults.counts() {
		rep.injected["twilio "+k] = v
	}
	if !rep.verdict.clean() && !o.verbose {
		for _, r := range rs.slots {
			say("replica %d log, last lines:\n%s", r.n, harness.LastLines(r.log.String(), 15))
		}
	}
	rep.wall = time.Since(began)
	return rep, nil
}

// injectFaults carries out the plan's kills and database restart at their
// offsets from start; the windows act by themselves in the wrappers.
func injectFaults(ctx context.Context, pl plan, start time.Time, rs *replicas, cl *harness.Cluster, rng *rand.Rand, event func(string, ...any)) {
	type action struct {
		at time.Duration
		do func()
	}
	var acts []action
	kill := func() {
		if n, ok := rs.killOne(rng); ok {
			event("SIGKILL replica %d", n)
		} else {
			event("no replica up to kill")
		}
	}
	for _, k := range pl.kills {
		acts = append(acts, action{k, kill})
	}
	if pl.downKill >= 0 {
		acts = append(acts, action{pl.downKill, kill})
	}
	if pl.dbRestart >= 0 {
		acts = append(acts, action{pl.dbRestart, func() {
			t0 := time.Now()
			restart := cl.Restart
			if pl.dbDown > 0 {
				event("pg_ctl stop -m fast, start %s later", pl.dbDown)
				restart = func(ctx context.Context) error { return cl.RestartAfter(ctx, pl.dbDown) }
			} else {
				event("pg_ctl restart -m fast")
			}
			rctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			if err := restart(rctx); err != nil {
				event("PostgreSQL restart failed: %v", err)
				return
			}
			event("PostgreSQL back after %s", time.Since(t0).Round(10*time.Millisecond))
		}})
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for len(acts) > 0 {
		next := 0
		for i, a := range acts {
			if a.at < acts[next].at {
				next = i
			}
		}
		a := acts[next]
		acts = append(acts[:next], acts[next+1:]...)
		if !sleepCtx(ctx, time.Until(start.Add(a.at))) {
			return
		}
		// A slow restart must not hold up the kills behind it.
		wg.Add(1)
		go func() { defer wg.Done(); a.do() }()
	}
}

// settle waits until no outbox row is left to run and what the stand-ins
// recorded has not changed for quiet; at most limit.
func settle(ctx context.Context, db *database, tw *twiliostandin.Server, sl *slackstandin.Server, tr *traffic, limit time.Duration) bool {
	const quiet = 4 * time.Second
	deadline := time.Now().Add(limit)
	last, since := "", time.Now()
	for time.Now().Before(deadline) {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		left, err := db.unsettled(qctx)
		cancel()
		n := 0
		for _, v := range left {
			n += v
		}
		n += int(tr.receipts.pending.Load()) // a receipt on its way changes a card
		sig := fmt.Sprint(len(tw.Messages()), sl.Calls("chat.postMessage"), sl.Calls("chat.update"))
		if sig != last || err != nil || n > 0 {
			last, since = sig, time.Now()
		} else if time.Since(since) >= quiet {
			return true
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return false
		}
	}
	return false
}

// slackPosts is every channel's top-level messages and thread replies.
func slackPosts(sl *slackstandin.Server) []slackPost {
	var out []slackPost
	for _, ch := range sl.Channels() {
		for _, m := range sl.Messages(ch) {
			if m.ThreadTS != "" {
				continue // a broadcast reply: seen in its thread
			}
			out = append(out, slackPost{channel: ch, ts: m.TS, text: m.Text, caseID: harness.CaseOfCard(m.Blocks, m.Metadata),
				key: harness.KeyOfPost(m.Metadata), textBackDelivered: showsTextBackDelivered(m.Blocks)})
			thread := sl.Thread(ch, m.TS)
			for _, r := range thread {
				if r.TS == m.TS {
					continue
				}
				out = append(out, slackPost{channel: ch, ts: r.TS, threadTS: r.ThreadTS, text: r.Text, key: harness.KeyOfPost(r.Metadata)})
			}
		}
	}
	return out
}

func (r *report) write(w io.Writer, o options) {
	p := o.profile
	fmt.Fprintf(w, "ringback-chaos: %d callers at %d/s on %d replicas, seed %d (%s)\n", p.calls, p.rate, o.replicas, o.seed, r.wall.Round(time.Second))
	fmt.Fprintf(w, "traffic: %d missed calls (%d repeat), %d caller texts; webhooks: %d attempts, %d retried, %d given up; ack p50 %s p99 %s\n",
		r.calls+r.repeats, r.repeats, r.texts, r.attempts, r.retried, r.gaveUp, round(r.acks.P50), round(r.acks.P99))
	fmt.Fprintf(w, "faults: %d SIGKILLs, %d restarts (%d failed attempts), %d unasked exits", r.kills, r.restarts, r.fail, r.crashes)
	if r.plan.dbRestart >= 0 {
		fmt.Fprint(w, ", 1 PostgreSQL restart")
		if r.plan.dbDown > 0 {
			fmt.Fprintf(w, " (stopped %s, a replica killed meanwhile)", r.plan.dbDown)
		}
	}
	fmt.Fprintln(w)
	for _, win := range r.plan.windows {
		fmt.Fprintf(w, "  %s — %d requests hit\n", win, r.injected[win.remote+" "+win.name+" "+win.mode.String()])
	}
	if len(r.slackCalls) > 0 {
		fmt.Fprint(w, "slack calls:")
		for _, m := range slices.Sorted(maps.Keys(r.slackCalls)) {
			fmt.Fprintf(w, " %s %d", m, r.slackCalls[m])
		}
		fmt.Fprintln(w)
	}
	if r.settled {
		fmt.Fprintf(w, "settled after %s\n", r.settleTook.Round(time.Second))
	} else {
		fmt.Fprintf(w, "NOT settled within %s: rows still pending count as lost\n", o.settle)
	}
	writeVerdict(w, r.verdict, o.target)
}
