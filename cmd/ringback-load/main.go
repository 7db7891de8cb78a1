// Command ringback-load measures Ringback under a steady stream of missed
// calls, end to end, on each store.
//
// For every store (-stores) and every rate (-rates) it builds the ringback
// binary from this module once, starts a fresh `ringback serve` as a child
// process on 127.0.0.1 (a new SQLite file in a temporary directory, or a new
// PostgreSQL database that is dropped afterwards), points it at a local
// Twilio stand-in (sms/twiliostandin, answering after -twilio-latency), and then
// posts signed Twilio status callbacks (POST /twilio/voice/status,
// CallStatus=no-answer) open-loop: request i is sent at start + i/rate
// whatever became of the earlier ones. Every call comes from a new caller on
// the Lettings line of ringback.example.yaml, so every call must produce
// exactly one text-back.
//
//	go run ./cmd/ringback-load -stores sqlite,postgres -rates 50,200,500 -duration 10s
//
// Reading the output (one row per store and rate):
//
//	store     the store the server ran on
//	rate/s    calls offered per second; calls = rate × duration
//	ack       webhook acknowledgement: from the moment a callback is sent to
//	          the moment its response status arrives. Ringback answers only
//	          after the call, the case and the outbox row are committed.
//	sent      callback → text: from the moment a callback is sent to the
//	          moment the Twilio stand-in accepted the text-back for that
//	          caller. It includes the stand-in's simulated -twilio-latency.
//	lost      calls acknowledged 200 whose caller got no text within -grace
//	          of the last response; a server that falls more than -grace
//	          behind shows its backlog here
//	dup       callers who got more than one text ("+N stray": texts to
//	          numbers that never called)
//	errors    callbacks answered with anything but 200, or not answered
//	lag p99   how late the generator sent requests against its schedule; a
//	          large value means the load machine, not the server, is the limit
//	srv cpu   CPU time the server process used / wall time of the run
//	          (100% = one core), from the end of start-up until the last
//	          text arrived
//	db cpu    the same for the PostgreSQL backends serving the run's
//	          database, when PostgreSQL runs on this machine ("-" on SQLite,
//	          which runs inside the server)
//
// p50 and p99 are exact percentiles of all samples (nearest rank). Samples
// are times on this machine's clock: the generator, the server and the
// stand-in share it. The command exits 1 when any run lost, duplicated or
// failed a call, and prints whether the target (PostgreSQL at
// 200/s: ack p99 ≤ 25 ms, sent p99 ≤ 250 ms) was met. -json prints the
// results as a JSON array instead of the table (latencies in ms, CPU as a
// fraction of one core); -v streams the servers' warnings and errors.
//
// Only 127.0.0.1 is ever contacted, besides the PostgreSQL server of
// -database-url, on which the command creates and drops databases named
// ringback_load_<random>.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"ringback/cmd/internal/harness"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	// maxCallsPerRun bounds one run; caller numbers are unique up to it.
	maxCallsPerRun = 100_000
	maxRate        = 5000
)

// options are the command's flags, validated.
type options struct {
	rates         []int
	duration      time.Duration
	stores        []string
	databaseURL   string
	twilioLatency time.Duration
	grace         time.Duration
	json          bool
	verbose       bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return harness.Main("ringback-load", args, stderr, parseFlags, func(ctx context.Context, opts options) int {
		return report(ctx, opts, stdout, stderr)
	})
}

// report offers the load and writes the results; 1 when a run failed or lost,
// doubled or failed a call.
func report(ctx context.Context, opts options, stdout, stderr io.Writer) int {
	results, err := loadAll(ctx, opts, stderr)
	if len(results) > 0 {
		if opts.json {
			if werr := writeJSON(stdout, results); werr != nil && err == nil {
				err = werr
			}
		} else {
			writeTable(stdout, results)
			writeTargets(stdout, results)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "ringback-load: %v\n", err)
		return 1
	}
	for _, r := range results {
		if !r.clean() {
			fmt.Fprintln(stderr, "ringback-load: FAIL: lost, duplicate, stray or failed calls (see the table)")
			return 1
		}
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("ringback-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rates := fs.String("rates", "50,200,500", "comma-separated call rates per second, each run for -duration")
	duration := fs.Duration("duration", 10*time.Second, "how long each rate is offered")
	stores := fs.String("stores", "sqlite,postgres", "comma-separated stores: sqlite, postgres")
	dbURL := os.Getenv("TEST_DATABASE_URL")
	if dbURL == "" {
		dbURL = defaultDatabaseURL
	}
	databaseURL := fs.String("database-url", dbURL, "PostgreSQL server to create the per-run databases on (default $TEST_DATABASE_URL)")
	latency := fs.Duration("twilio-latency", 20*time.Millisecond, "simulated latency of the Twilio stand-in's Messages API")
	grace := fs.Duration("grace", 10*time.Second, "how long to wait after the last callback for outstanding texts")
	jsonOut := fs.Bool("json", false, "print results as JSON instead of a table")
	verbose := fs.Bool("v", false, "stream the servers' logs (RINGBACK_LOG_LEVEL=warn) to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/ringback-load [flags]\n\n"+
			"Posts signed missed-call callbacks at fixed rates against a fresh ringback server\n"+
			"per store and rate, and prints webhook ack and callback → text latencies.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o := options{
		duration: *duration, databaseURL: *databaseURL, twilioLatency: *latency,
		grace: *grace, json: *jsonOut, verbose: *verbose,
	}
	if o.duration <= 0 || o.duration > 10*time.Minute {
		return o, fmt.Errorf("-duration %s: want more than 0 and at most 10m", o.duration)
	}
	if o.twilioLatency < 0 || o.twilioLatency > 10*time.Second {
		return o, fmt.Errorf("-twilio-latency %s: want 0 to 10s", o.twilioLatency)
	}
	if o.grace < 0 || o.grace > 5*time.Minute {
		return o, fmt.Errorf("-grace %s: want 0 to 5m", o.grace)
	}
	for _, f := range splitList(*rates) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > maxRate {
			return o, fmt.Errorf("-rates: %q is not a rate from 1 to %d", f, maxRate)
		}
		if calls := int64(n) * int64(o.duration) / int64(time.Second); calls > maxCallsPerRun {
			return o, fmt.Errorf("-rates %d × -duration %s is %d calls; at most %d per run", n, o.duration, calls, maxCallsPerRun)
		}
		o.rates = append(o.rates, n)
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

// loadAll builds the server once and runs every store × rate. It returns the
// results of the runs that completed, and the first error that stopped it.
func loadAll(ctx context.Context, o options, stderr io.Writer) ([]result, error) {
	work, err := os.MkdirTemp("", "ringback-load-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(work)
	root, err := harness.ModuleRoot(ctx)
	if err != nil {
		return nil, err
	}
	if !o.json {
		fmt.Fprintf(stderr, "building ringback from %s…\n", root)
	}
	bin, err := harness.Build(ctx, root, work)
	if err != nil {
		return nil, err
	}
	var results []result
	for _, st := range o.stores {
		for _, rate := range o.rates {
			if err := ctx.Err(); err != nil {
				return results, fmt.Errorf("interrupted: %w", err)
			}
			if !o.json {
				fmt.Fprintf(stderr, "%s at %d calls/s for %s…\n", st, rate, o.duration)
			}
			r, err := runOnce(ctx, o, root, bin, work, st, rate, stderr)
			if err != nil {
				return results, fmt.Errorf("%s at %d/s: %w", st, rate, err)
			}
			results = append(results, r)
		}
	}
	return results, nil
}
