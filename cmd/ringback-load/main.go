// Command ringback-load measures what a missed call costs Ringback and how
// many a second it sustains, end to end, on each store.
//
// It builds the ringback binary from this module (or takes -bin) and, for
// every store (-stores) and rate (-rates), starts a fresh `ringback serve`
// as a child process on 127.0.0.1 — a new SQLite file, or a new database on
// a private PostgreSQL cluster (initdb in a temporary folder, with
// pg_stat_statements preloaded; -database-url uses an existing server
// instead) — pointed at local stand-ins of Twilio and Slack that answer
// after -twilio-latency and -slack-latency (100 ms and 150 ms, as the real
// APIs do from a nearby region). It then posts signed Twilio status
// callbacks (POST /twilio/voice/status, CallStatus=no-answer), each from a
// new caller on the Lettings line of ringback.example.yaml, so that every
// call must produce exactly one text-back and one card.
//
//	go run ./cmd/ringback-load -stores sqlite,postgres -rates 50,100 -duration 30s
//	go run ./cmd/ringback-load -stores postgres -find-max -duration 30s
//	go run ./cmd/ringback-load -stores postgres -rates 100 -seed-cases 200000 -seed-calls 1000000
//
// The schedule is open: call i is planned for start + i/rate and sent then
// on a goroutine of its own, whatever became of the earlier ones; every
// latency counts from that planned time, so a server (or a generator) that
// falls behind shows its backlog in the figures instead of slowing the
// offered load down. Each run's server first takes -warmup's worth of calls
// at the run's rate, unmeasured: a new server opens its connections and
// prepares its statements in its first second, where some 4 % of a run's
// acks waited up to 300 ms at 120 calls/s, which set a short run's p99;
// a server that has been running does none of that. The command waits up
// to -grace after the last answer for every text and card, then reports:
//
//	ack       planned send → the webhook's response status arrived
//	text      planned send → the Twilio stand-in accepted the text-back
//	          (its -twilio-latency included)
//	card      planned send → the Slack stand-in accepted the case's card
//	          (its -slack-latency included)
//	lost      acknowledged calls whose text or card never came (within -grace)
//	dup       calls whose caller got two texts, or whose case two cards
//	errors    callbacks answered with anything but 200, or not answered
//	lag p99   how late the generator sent against its plan: large means
//	          this machine, not the server, is the limit
//	rb cpu-s/1k  CPU-seconds of the ringback process per 1,000 calls
//	          (from /proc, start of the load to the last text or card)
//	pg cpu-s/1k  the same for PostgreSQL: every process of the private
//	          cluster (backends, WAL writer, checkpointer, autovacuum), or
//	          with -database-url on this machine the run database's backends
//	statements   pg_stat_statements calls per call (BEGIN/COMMIT included),
//	          with the most frequent statements listed below the table, their
//	          execution and planning time, and the connections the server
//	          opened after its warm-up
//	xacts, WAL flushes, WAL records   per call: transactions committed
//	          (pg_stat_database.xact_commit: every autocommit SELECT is one),
//	          and pg_stat_wal's wal_sync (fsyncs of the WAL) and wal_records;
//	          below the table, the index entries written per call by index,
//	          from the run's WAL (pg_walinspect)
//	/metrics, /healthz   how long a scrape took, every -scrape, during the load
//
// Below the table, each run's machine CPUs busy, split between Ringback,
// PostgreSQL, this command and the rest, and the CPU ceiling: the call rate
// the machine's CPUs carry at the run's CPU per call of the three together
// (and without this command's share), the most -find-max can find here
// whatever the targets.
//
// p50, p90 and p99 are exact nearest-rank percentiles. With -find-max it
// steps the rate (doubling from the first of -rates, then halving the gap)
// and reports the highest rate that met the targets: ack p99 ≤ 25 ms, text
// p99 ≤ 250 ms, card p99 ≤ 500 ms, 0 lost, 0 duplicated. With -baseline
// (the default when a PostgreSQL server is used) it first runs the
// webhook's rows as one plain transaction — insert the call, upsert the
// case, insert an event, two outbox rows — at full speed with pgbench (or a
// Go loop when pgbench is not installed) on the same server, so that the
// rates can be read as a fraction of what the database does bare. -json
// prints everything as one JSON object.
//
// The command exits 1 when a run lost, duplicated or failed a call, 2 on
// bad flags. Only 127.0.0.1 is contacted, besides -database-url's server,
// on which it creates and drops databases named ringback_load_<random>.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"ringback/cmd/internal/harness"
)

const (
	// maxCallsPerRun bounds one run; caller numbers are unique up to it.
	maxCallsPerRun = 100_000
	maxRate        = 5000
	maxSeed        = 1_000_000
)

// options are the command's flags, validated.
type options struct {
	rates         []int
	duration      time.Duration
	warmup        time.Duration // offered first at the same rate, not measured
	stores        []string
	databaseURL   string // "": a private cluster
	twilioLatency time.Duration
	slackLatency  time.Duration
	receiptAfter  time.Duration // a text's delivery receipt follows its acceptance (0: none)
	sentAfter     time.Duration // its "sent" receipt does (0: none)
	slack         bool
	tls           bool // the stand-ins serve HTTPS
	pgSocket      bool // the private cluster is reached through its Unix socket
	grace         time.Duration
	findMax       bool
	maxRate       int
	runs          int // each rate offered this many times (medians reported)
	seed          seed
	alsoEmpty     bool // with a seed, run each rate on an empty store too
	baseline      bool
	baselineFor   time.Duration
	clients       int
	scrape        time.Duration
	bin           string
	config        string // "": the module's ringback.example.yaml
	json          bool
	verbose       bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return harness.Main("ringback-load", args, stderr, parseFlags, func(ctx context.Context, opts options) int {
		return measure(ctx, opts, stdout, stderr)
	})
}

// measure offers the load and writes the report; 1 when a run failed or
// lost, doubled or failed a call.
func measure(ctx context.Context, opts options, stdout, stderr io.Writer) int {
	rep, err := loadAll(ctx, opts, stderr)
	if len(rep.Runs) > 0 || rep.Baseline != nil {
		if opts.json {
			if werr := writeJSON(stdout, rep); werr != nil && err == nil {
				err = werr
			}
		} else {
			writeTable(stdout, rep)
			writeStatements(stdout, rep)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ringback-load: %v\n", err)
		return 1
	}
	for _, r := range rep.Runs {
		// -find-max looks for the rate where things start to go wrong:
		// only a failure at a rate it reported as met is one.
		if !r.clean() && (!opts.findMax || r.Rate <= rep.MaxRate[r.label()]) {
			fmt.Fprintln(stderr, "ringback-load: FAIL: lost, duplicate, stray or failed calls, or failed receipts (see the tables)")
			return 1
		}
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("ringback-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rates := fs.String("rates", "50,100,200", "comma-separated call rates per second, each run for -duration (-find-max: the first is where the search starts)")
	duration := fs.Duration("duration", 10*time.Second, "how long each rate is offered")
	warmup := fs.Duration("warmup", 3*time.Second, "how long each run's server first takes calls at the run's rate, unmeasured, so that the figures are of a running server (a new one opens its connections and prepares its statements in its first second)")
	stores := fs.String("stores", "sqlite,postgres", "comma-separated stores: sqlite, postgres")
	databaseURL := fs.String("database-url", "", "an existing PostgreSQL server to create the per-run databases on (default: a private cluster with pg_stat_statements)")
	twilio := fs.Duration("twilio-latency", 100*time.Millisecond, "how long the Twilio stand-in takes to answer")
	slackLat := fs.Duration("slack-latency", 150*time.Millisecond, "how long the Slack stand-in takes to answer")
	receipt := fs.Duration("receipt-after", 2*time.Second, "Twilio reports each text delivered this long after accepting it, with a signed status callback to the server, as it does for every text (0: no receipts, as this command measured before)")
	sentAfter := fs.Duration("sent-after", 500*time.Millisecond, "Twilio also reports each text sent (handed to the carrier) this long after accepting it, as it does for nearly every text before its delivery (0: only the last receipt, as this command measured before)")
	slack := fs.Bool("slack", true, "configure Slack, so that every call also posts a card (false: texts only, as this command measured before issue 17)")
	tlsOn := fs.Bool("tls", true, "the stand-ins serve HTTPS, as Twilio and Slack do, so that the server's connection handling costs what it does against them (false: plain HTTP, as this command measured before)")
	pgSocket := fs.Bool("pg-socket", true, "reach the private cluster through its Unix socket, as a server on the same host is configured to (false: TCP on 127.0.0.1, as this command measured before); -database-url's own host decides for it")
	grace := fs.Duration("grace", 30*time.Second, "how long to wait after the last answer for outstanding texts and cards")
	findMax := fs.Bool("find-max", false, "step the rate and report the highest that meets the targets")
	maxR := fs.Int("max-rate", 2000, "-find-max: the highest rate tried")
	runs := fs.Int("runs", 1, "offer every rate this many times, each on a fresh server, the rates taken in turn (so that a slow spell of the machine spoils one run of each rate, not every run of one), and report every run and the medians of their figures (not with -find-max)")
	seedCases := fs.Int("seed-cases", 0, "closed cases of other callers in the store before the load")
	seedCalls := fs.Int("seed-calls", 0, "their calls in the store before the load")
	seedOutbox := fs.Int("seed-outbox", 0, "finished outbox rows in the store before the load")
	alsoEmpty := fs.Bool("also-empty", false, "with -seed-…, run every rate on an empty store as well, for comparison")
	baseline := fs.Bool("baseline", true, "run the webhook-shaped transaction with pgbench on the PostgreSQL server first")
	baselineFor := fs.Duration("baseline-duration", 10*time.Second, "how long the baseline runs")
	clients := fs.Int("baseline-clients", 8, "the baseline's connections")
	scrape := fs.Duration("scrape", time.Second, "how often /metrics and /healthz are scraped during the load (0: never)")
	bin := fs.String("bin", "", "a ringback binary to measure instead of building this module's (e.g. an older commit's)")
	cfg := fs.String("config", "", "the ringback.yaml the servers run on (default: the module's ringback.example.yaml; its Lettings line must be "+harness.LettingsLine+")")
	jsonOut := fs.Bool("json", false, "print the report as JSON instead of tables")
	verbose := fs.Bool("v", false, "stream the servers' logs (RINGBACK_LOG_LEVEL=warn) to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/ringback-load [flags]\n\n"+
			"Posts signed missed-call callbacks open-loop at fixed rates against a fresh ringback\n"+
			"server per store and rate, and prints ack, text and card latencies from each call's\n"+
			"planned send time, losses, and the CPU, SQL statements and WAL flushes per call.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o := options{
		duration: *duration, warmup: *warmup, databaseURL: *databaseURL, twilioLatency: *twilio, slackLatency: *slackLat, receiptAfter: *receipt, sentAfter: *sentAfter, tls: *tlsOn, pgSocket: *pgSocket,
		slack: *slack, grace: *grace, findMax: *findMax, maxRate: *maxR, runs: *runs,
		seed: seed{cases: *seedCases, calls: *seedCalls, outbox: *seedOutbox}, alsoEmpty: *alsoEmpty,
		baseline: *baseline, baselineFor: *baselineFor, clients: *clients, scrape: *scrape,
		bin: *bin, config: *cfg, json: *jsonOut, verbose: *verbose,
	}
	switch {
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return o, fmt.Errorf("-duration %s: want more than 0 and at most 10m", o.duration)
	case o.warmup < 0 || o.warmup > time.Minute:
		return o, fmt.Errorf("-warmup %s: want 0 to 1m", o.warmup)
	case o.twilioLatency < 0 || o.twilioLatency > 10*time.Second:
		return o, fmt.Errorf("-twilio-latency %s: want 0 to 10s", o.twilioLatency)
	case o.slackLatency < 0 || o.slackLatency > 10*time.Second:
		return o, fmt.Errorf("-slack-latency %s: want 0 to 10s", o.slackLatency)
	case o.receiptAfter < 0 || o.receiptAfter > time.Minute:
		return o, fmt.Errorf("-receipt-after %s: want 0 to 1m", o.receiptAfter)
	case o.sentAfter < 0 || o.sentAfter > time.Minute:
		return o, fmt.Errorf("-sent-after %s: want 0 to 1m", o.sentAfter)
	case o.grace < 0 || o.grace > 10*time.Minute:
		return o, fmt.Errorf("-grace %s: want 0 to 10m", o.grace)
	case o.maxRate < 1 || o.maxRate > maxRate:
		return o, fmt.Errorf("-max-rate %d: want 1 to %d", o.maxRate, maxRate)
	case o.runs < 1 || o.runs > 20:
		return o, fmt.Errorf("-runs %d: want 1 to 20", o.runs)
	case o.runs > 1 && o.findMax:
		return o, errors.New("-runs: -find-max offers each rate once")
	case o.seed.cases < 0 || o.seed.cases > maxSeed || o.seed.calls < 0 || o.seed.calls > 10*maxSeed || o.seed.outbox < 0 || o.seed.outbox > 10*maxSeed:
		return o, fmt.Errorf("-seed-cases up to %d, -seed-calls and -seed-outbox up to %d", maxSeed, 10*maxSeed)
	case o.baselineFor < time.Second || o.baselineFor > 10*time.Minute:
		return o, fmt.Errorf("-baseline-duration %s: want 1s to 10m", o.baselineFor)
	case o.clients < 1 || o.clients > 64:
		return o, fmt.Errorf("-baseline-clients %d: want 1 to 64", o.clients)
	case o.scrape < 0:
		return o, fmt.Errorf("-scrape %s: want 0 or more", o.scrape)
	}
	for _, f := range splitList(*rates) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > maxRate {
			return o, fmt.Errorf("-rates: %q is not a rate from 1 to %d", f, maxRate)
		}
		o.rates = append(o.rates, n)
	}
	top := slices.Max(append([]int{0}, o.rates...))
	if o.findMax {
		top = max(top, o.maxRate)
	}
	if calls := int64(top) * int64(o.duration+o.warmup) / int64(time.Second); calls > maxCallsPerRun {
		return o, fmt.Errorf("%d/s × -duration %s (and -warmup %s) is %d calls; at most %d per run", top, o.duration, o.warmup, calls, maxCallsPerRun)
	}
	for _, s := range splitList(*stores) {
		if s != "sqlite" && s != "postgres" {
			return o, fmt.Errorf("-stores: %q is neither sqlite nor postgres", s)
		}
		o.stores = append(o.stores, s)
	}
	if len(o.rates) == 0 || len(o.stores) == 0 {
		return o, errors.New("-rates and -stores must each name at least one")
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// loadAll builds the server once, runs the baseline and then every store ×
// rate (or the -find-max search). It returns what completed, and the first
// error that stopped it.
func loadAll(ctx context.Context, o options, stderr io.Writer) (rep report, err error) {
	say := func(format string, args ...any) {
		if !o.json {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
	work, err := os.MkdirTemp("", "ringback-load-")
	if err != nil {
		return rep, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(work)
	root, err := harness.ModuleRoot(ctx)
	if err != nil {
		return rep, err
	}
	bin := o.bin
	if bin == "" {
		say("building ringback from %s…", root)
		if bin, err = harness.Build(ctx, root, work); err != nil {
			return rep, err
		}
	}
	if o.config == "" {
		o.config = filepath.Join(root, "ringback.example.yaml")
	}
	if !o.slack {
		rep.Notes = append(rep.Notes, "-slack=false: no cards are posted or measured")
	}

	var pg *pgServer
	if slices.Contains(o.stores, "postgres") || o.baseline {
		if o.databaseURL == "" {
			say("creating a private PostgreSQL cluster…")
		}
		if pg, err = openPGServer(ctx, o.databaseURL, o.pgSocket); err != nil {
			if slices.Contains(o.stores, "postgres") {
				return rep, err
			}
			rep.Notes = append(rep.Notes, "no baseline: "+err.Error())
		} else {
			defer pg.close()
			if pg.cluster != nil && !o.pgSocket {
				rep.Notes = append(rep.Notes, "-pg-socket=false: the server, the baseline and the statistics reach PostgreSQL over TCP on 127.0.0.1")
			}
			if pg.cluster == nil {
				rep.Notes = append(rep.Notes, "-database-url: WAL flushes and records are the whole server's, other databases' writes included")
			}
		}
	}
	if o.baseline && pg != nil {
		say("baseline: the webhook's rows as one transaction, %d clients, %s…", o.clients, o.baselineFor)
		b, err := runBaseline(ctx, pg, o.baselineFor, o.clients, work)
		if err != nil {
			return rep, err
		}
		rep.Baseline = &b
	}

	for _, name := range o.stores {
		st := runStore{name: name}
		if name == "postgres" {
			st.pg = pg
		}
		if !o.seed.empty() {
			say("%s: seeding %d cases, %d calls, %d outbox rows…", name, o.seed.cases, o.seed.calls, o.seed.outbox)
			if st.template, err = seedStore(ctx, o, st, bin, work); err != nil {
				return rep, fmt.Errorf("%s: %w", name, err)
			}
		}
		variants := []runStore{st}
		if o.alsoEmpty && st.template != "" {
			empty := st
			empty.template = ""
			variants = []runStore{empty, st}
		}
		for _, v := range variants {
			if err := runVariant(ctx, o, bin, work, v, &rep, say, stderr); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// runVariant runs every rate, or the -find-max search, on one store.
func runVariant(ctx context.Context, o options, bin, work string, st runStore, rep *report, say func(string, ...any), stderr io.Writer) error {
	label := st.name
	if st.template != "" {
		label += seededMark
	}
	one := func(rate, run int) (result, error) {
		if err := ctx.Err(); err != nil {
			return result{}, fmt.Errorf("interrupted: %w", err)
		}
		of := ""
		if o.runs > 1 {
			of = fmt.Sprintf(" (run %d of %d)", run, o.runs)
		}
		if o.warmup > 0 {
			say("%s at %d calls/s for %s, after %s of them unmeasured%s…", label, rate, o.duration, o.warmup, of)
		} else {
			say("%s at %d calls/s for %s%s…", label, rate, o.duration, of)
		}
		r, err := runOnce(ctx, o, bin, work, st, rate, stderr)
		if err != nil {
			return r, fmt.Errorf("%s at %d/s: %w", label, rate, err)
		}
		if o.runs > 1 {
			r.Run = run
		}
		rep.Runs = append(rep.Runs, r)
		return r, nil
	}
	if !o.findMax {
		for run := 1; run <= o.runs; run++ {
			for _, rate := range o.rates {
				if _, err := one(rate, run); err != nil {
					return err
				}
			}
		}
		return nil
	}
	best, err := findMax(o.rates[0], o.maxRate, func(rate int) (bool, error) {
		r, err := one(rate, 1)
		ok, _ := r.meets()
		return ok, err
	})
	if rep.MaxRate == nil {
		rep.MaxRate = map[string]int{}
	}
	rep.MaxRate[label] = best
	if best == o.maxRate {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s met the targets at -max-rate %d/s: its ceiling may be higher", label, best))
	}
	return err
}

// seedStore makes the seeded store every run of st starts from: a database
// to copy (PostgreSQL) or a folder holding ringback.db (SQLite).
func seedStore(ctx context.Context, o options, st runStore, bin, work string) (string, error) {
	dir, err := os.MkdirTemp(work, "seed-"+st.name+"-")
	if err != nil {
		return "", fmt.Errorf("seed directory: %w", err)
	}
	env := serverEnv(o.config, "127.0.0.1:0", "http://127.0.0.1", "", nil)
	if st.pg != nil {
		return seedPostgres(ctx, st.pg, o.seed, bin, dir, env)
	}
	return dir, seedSQLite(ctx, o.seed, bin, dir, env)
}

// findMax searches for the highest rate in [first, limit] at which pass
// holds, assuming that it holds below some rate and not above: doubling from
// first until a rate fails, then halving the gap between the highest pass
// and the lowest failure until it is within 10 %. When first already
// fails it searches below it; 0 means that not even 1 call/s passed.
func findMax(first, limit int, pass func(rate int) (bool, error)) (int, error) {
	best, fail := 0, 0
	for rate := first; ; rate = min(rate*2, limit) {
		ok, err := pass(rate)
		if err != nil {
			return best, err
		}
		if !ok {
			fail = rate
			break
		}
		best = rate
		if rate >= limit {
			return best, nil
		}
	}
	for fail-best > max(1, best/10) {
		rate := best + (fail-best)/2
		if best == 0 {
			rate = fail / 2
		}
		if rate <= best || rate >= fail {
			break
		}
		ok, err := pass(rate)
		if err != nil {
			return best, err
		}
		if ok {
			best = rate
		} else {
			fail = rate
		}
	}
	return best, nil
}
