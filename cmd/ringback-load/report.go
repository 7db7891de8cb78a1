package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"ringback/cmd/internal/harness"
)

// The targets for a sustained rate (issue 17).
const (
	targetAckP99  = 25 * time.Millisecond
	targetTextP99 = 250 * time.Millisecond
	targetCardP99 = 500 * time.Millisecond
)

// summary describes a set of latency samples.
type summary = harness.Summary

// result is one store × rate run. Latencies count from each call's planned
// send time.
type result struct {
	Store        string
	Rate         int
	Run          int // which of -runs' runs of the store and rate (from 1); 0 with -runs 1
	Calls        int // offered
	Acked        int // answered 200
	Texts, Cards int // what the stand-ins accepted
	Slack        bool
	Seeded       bool
	Ack          summary
	Text         summary // planned send → the Twilio stand-in accepted the text-back
	Card         summary // planned send → the Slack stand-in accepted the card
	Lag          summary // generator: actual − planned send time

	LostTexts, DupTexts, StrayTexts int
	LostCards, DupCards, StrayCards int
	OtherPosts                      int            // top-level Slack posts that are not a card
	SlackCalls                      map[string]int // Slack Web API calls by method
	Errors                          int            // callbacks not answered 200
	// Receipts posted to the server (-receipt-after, -sent-after), the
	// warm-up's texts' included: answered 2xx, and not (refused, failed
	// or unanswered within -grace).
	Receipts, ReceiptsFailed int

	Wall        time.Duration // first planned send → last text or card
	ServerCPU   time.Duration // over Wall; < 0: unknown
	DatabaseCPU time.Duration // PostgreSQL's, over Wall; < 0: unknown or SQLite
	// DatabaseCPUByKind splits it by kind of process (private cluster only).
	DatabaseCPUByKind map[string]time.Duration
	// MachineBusy is the time the machine's CPUs (CPUs of them) were busy
	// over Wall, every process's; LoadCPU this command's own (the calls,
	// the stand-ins, the scrapes). < 0: unknown.
	MachineBusy, LoadCPU time.Duration
	CPUs                 int
	// ConnWaits are the server's waits for a database connection by class,
	// and the time each class held one, from the run's first /metrics
	// scrape to its last, ConnSpan apart (nil: not scraped).
	ConnWaits []classWaits
	ConnSpan  time.Duration

	// Per call offered, from PostgreSQL's statistics.
	HasCounters bool
	Statements  float64 // pg_stat_statements calls (BEGIN and COMMIT included)
	ExecMillis  float64 // their execution time (total_exec_time)
	PlanMillis  float64 // their planning time (0: not tracked)
	Commits     float64 // transactions committed, read-only ones included
	// Connections is how many connections to its database the server
	// opened in the run, after its warm-up (-1: unknown). Each new one
	// plans every statement it runs again: a pool that grows inside the
	// measured window shows here and in PlanMillis.
	Connections          int
	WALSyncs, WALRecords float64
	TopStatements        []statement
	TableWrites          []tableRate // row writes per table
	// IndexEntries is the B-tree entries written per call, in all;
	// TopIndexEntries the costliest indexes (or IndexNote why not).
	IndexEntries        float64
	TopIndexEntries     []indexEntry
	IndexNote           string
	CostliestStatements []statement // by total execution and planning time
	DBNote              string      // why statements are not counted
	Metrics, Healthz    summary     // every scrape's time, failed ones included
	MetricsFailed       int         // scrapes not answered 200
	HealthzFailed       int
	// Probe is the commit probe's commits beside the load (commitProbe),
	// ProbeWhat what they were (or why there were none).
	Probe       summary
	ProbeFailed int
	ProbeWhat   string
	// Warmup is how long calls were offered first, unmeasured; WarmAck
	// their acks (a new server's first seconds).
	Warmup  time.Duration
	WarmAck summary
}

// seededMark follows the store's name for runs on a seeded store.
const seededMark = "+seed"

// label names the run's store: "postgres", or "postgres+seed" when seeded.
func (r result) label() string {
	if r.Seeded {
		return r.Store + seededMark
	}
	return r.Store
}

// which names the run among -runs' runs of its store and rate ("" with
// -runs 1).
func (r result) which() string {
	if r.Run == 0 {
		return ""
	}
	return fmt.Sprintf(" (run %d)", r.Run)
}

func (r result) lost() int       { return r.LostTexts + r.LostCards }
func (r result) duplicated() int { return r.DupTexts + r.DupCards }

// clean reports whether nothing was lost, duplicated, misdirected or
// refused.
func (r result) clean() bool {
	return r.lost() == 0 && r.duplicated() == 0 && r.Errors == 0 && r.StrayTexts == 0 && r.StrayCards == 0 && r.ReceiptsFailed == 0
}

// meets reports whether the run met every target; why not when it did not.
func (r result) meets() (bool, string) {
	var miss []string
	if r.Ack.N == 0 || r.Ack.P99 > targetAckP99 {
		m := fmt.Sprintf("ack p99 %s > %s", latency(r.Ack, r.Ack.P99), targetAckP99)
		if r.Probe.N > 0 && r.Probe.Max > targetAckP99 {
			m += fmt.Sprintf(" (the commit probe beside it took up to %s)", latency(r.Probe, r.Probe.Max))
		}
		miss = append(miss, m)
	}
	if r.Text.N == 0 || r.Text.P99 > targetTextP99 {
		miss = append(miss, fmt.Sprintf("text p99 %s > %s", latency(r.Text, r.Text.P99), targetTextP99))
	}
	if r.Slack && (r.Card.N == 0 || r.Card.P99 > targetCardP99) {
		miss = append(miss, fmt.Sprintf("card p99 %s > %s", latency(r.Card, r.Card.P99), targetCardP99))
	}
	if !r.clean() {
		miss = append(miss, fmt.Sprintf("%d lost, %d duplicated, %d errors", r.lost(), r.duplicated(), r.Errors))
	}
	return len(miss) == 0, strings.Join(miss, "; ")
}

// perThousand is CPU-seconds per 1,000 calls offered; "-" when unknown.
func (r result) perThousand(d time.Duration) string { return known(cpuPerK(r, d), "%.2f") }

// report is everything a command run prints.
type report struct {
	Runs     []result
	Baseline *baselineResult
	// MaxRate is, per store, the highest rate that met the targets with
	// -find-max; 0 when none did.
	MaxRate map[string]int
	Notes   []string
}

func writeTable(w io.Writer, rep report) {
	if len(rep.Runs) > 0 {
		fmt.Fprintln(w, "latency from each call's planned send time:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "store   \trate/s\tcalls\tack p50\tp90\tp99\tmax\ttext p50\tp90\tp99\tmax\tcard p50\tp90\tp99\tmax\tlost\tdup\terrors\tlag p99\tok\t")
		for _, r := range rep.Runs {
			ok, _ := r.meets()
			fmt.Fprintf(tw, "%-8s\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t\n", r.label(), r.Rate, r.Calls,
				quad(r.Ack)+"\t"+quad(r.Text), quad(r.Card),
				r.lost(), r.duplicated(), r.Errors, latency(r.Lag, r.Lag.P99), yes(ok))
		}
		_ = tw.Flush()
		fmt.Fprintln(w)
		fmt.Fprintln(w, "cost: CPU-seconds per 1,000 calls; PostgreSQL's statements, transactions and WAL per call:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "store   \trate/s\trb cpu-s/1k\tpg cpu-s/1k\tstatements\txacts\tWAL flushes\tWAL records\t/metrics p50\tmax\tfailed\t/healthz p50\tmax\tfailed\t")
		for _, r := range rep.Runs {
			stmts, commits, syncs, records := "-", "-", "-", "-"
			if r.Statements > 0 {
				stmts = fmt.Sprintf("%.1f", r.Statements)
			}
			if r.HasCounters {
				commits, syncs, records = fmt.Sprintf("%.1f", r.Commits), fmt.Sprintf("%.1f", r.WALSyncs), fmt.Sprintf("%.1f", r.WALRecords)
			}
			fmt.Fprintf(tw, "%-8s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\t\n", r.label(), r.Rate,
				r.perThousand(r.ServerCPU), r.perThousand(r.DatabaseCPU), stmts, commits, syncs, records,
				latency(r.Metrics, r.Metrics.P50), latency(r.Metrics, r.Metrics.Max), r.MetricsFailed,
				latency(r.Healthz, r.Healthz.P50), latency(r.Healthz, r.Healthz.Max), r.HealthzFailed)
		}
		_ = tw.Flush()
		writeProbes(w, rep.Runs)
		writeMedians(w, medians(rep.Runs))
	}
	if b := rep.Baseline; b != nil {
		fmt.Fprintf(w, "\nbaseline (%s, %d clients, the webhook's rows as one transaction of %d statements): %.0f tx/s, PostgreSQL %s cpu-s/1k, %.2f WAL flushes per tx\n",
			b.Tool, b.Clients, baselineStatements, b.TPS, cpuPerThousand(b.DBCPU), b.WALSyncs)
	}
	seen := map[string]bool{}
	for _, r := range rep.Runs {
		if r.DBNote != "" && !seen[r.DBNote] {
			seen[r.DBNote] = true
			fmt.Fprintf(w, "note: %s: %s\n", r.Store, r.DBNote)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, r := range rep.Runs {
		if r.MetricsFailed+r.HealthzFailed > 0 {
			fmt.Fprintf(w, "%s at %d/s: %d of %d /metrics and %d of %d /healthz scrapes were not answered 200\n",
				r.label(), r.Rate, r.MetricsFailed, r.Metrics.N, r.HealthzFailed, r.Healthz.N)
		}
		if ok, why := r.meets(); !ok {
			fmt.Fprintf(w, "%s at %d/s%s misses the targets: %s\n", r.label(), r.Rate, r.which(), why)
		}
	}
	for _, st := range sortedKeys(rep.MaxRate) {
		fmt.Fprintf(w, "highest sustained rate on %s meeting ack p99 ≤ %s, text p99 ≤ %s, card p99 ≤ %s, 0 lost, 0 duplicated: %d calls/s%s\n",
			st, targetAckP99, targetTextP99, targetCardP99, rep.MaxRate[st], ratio(rep.MaxRate[st], rep.Baseline))
	}
}

// writeProbes prints what the commit probe measured beside each run.
func writeProbes(w io.Writer, runs []result) {
	fmt.Fprintf(w, "\nthe machine's commits beside the load (the commit probe, one every %s), and the acks of the warm-up before it (not measured):\n", probeEvery)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store   \trate/s\tcommits\tp50\tp90\tp99\tmax\tfailed\tack max\twarm-up ack p99\tmax\t")
	whats := map[string]bool{}
	for _, r := range runs {
		fmt.Fprintf(tw, "%-8s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t\n", r.label(), r.Rate, r.Probe.N, quad(r.Probe), r.ProbeFailed, latency(r.Ack, r.Ack.Max),
			latency(r.WarmAck, r.WarmAck.P99), latency(r.WarmAck, r.WarmAck.Max))
		whats[r.Store+": "+r.ProbeWhat] = true
	}
	_ = tw.Flush()
	for _, what := range sortedKeys(whats) {
		fmt.Fprintf(w, "  %s\n", what)
	}
}

// writeStatements lists each run's Slack calls and each PostgreSQL run's
// most frequent statements, per call offered.
func writeStatements(w io.Writer, rep report) {
	for _, r := range rep.Runs {
		if r.Receipts+r.ReceiptsFailed > 0 {
			fmt.Fprintf(w, "\nTwilio delivery receipts, %s at %d/s (the warm-up's texts' included): %d answered 2xx, %d not\n",
				r.label(), r.Rate, r.Receipts, r.ReceiptsFailed)
		}
		if len(r.SlackCalls) > 0 && r.Calls > 0 {
			fmt.Fprintf(w, "\nSlack calls per call, %s at %d/s:", r.label(), r.Rate)
			for _, m := range sortedKeys(r.SlackCalls) {
				fmt.Fprintf(w, " %s %.2f", m, float64(r.SlackCalls[m])/float64(r.Calls))
			}
			fmt.Fprintln(w)
		}
		if len(r.DatabaseCPUByKind) > 0 && r.Calls > 0 {
			fmt.Fprintf(w, "\nPostgreSQL CPU-seconds per 1,000 calls by process, %s at %d/s:", r.label(), r.Rate)
			kinds := sortedKeys(r.DatabaseCPUByKind)
			slices.SortStableFunc(kinds, func(a, b string) int { return cmp.Compare(r.DatabaseCPUByKind[b], r.DatabaseCPUByKind[a]) })
			for _, k := range kinds {
				if t := r.DatabaseCPUByKind[k]; t > 0 {
					fmt.Fprintf(w, " %s %.2f", k, t.Seconds()*1000/float64(r.Calls))
				}
			}
			fmt.Fprintln(w)
		}
		if len(r.ConnWaits) > 0 && r.ConnSpan > 0 {
			fmt.Fprintf(w, "\nthe database's connections, %s at %d/s, from the run's first /metrics scrape to its last (%.1f s), by class: connections held on average, and waits for one:\n",
				r.label(), r.Rate, r.ConnSpan.Seconds())
			for _, c := range r.ConnWaits {
				fmt.Fprintf(w, "  %-10s held %.2f, %.0f waits", c.Class, c.Held/r.ConnSpan.Seconds(), c.Waits)
				if c.Waits > 0 {
					fmt.Fprintf(w, " (%.2f ms each)", c.Seconds*1000/c.Waits)
				}
				fmt.Fprintln(w)
			}
		}
		if line := r.machineLine(); line != "" {
			fmt.Fprintf(w, "\nthe machine's CPUs, %s at %d/s, in cores busy over the run: %s\n", r.label(), r.Rate, line)
		}
		if line := r.ceilingLine(); line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if len(r.TableWrites) > 0 {
			fmt.Fprintf(w, "\nrow writes per call offered, %s at %d/s (an update not HOT writes every index of its table again),\n", r.label(), r.Rate)
			fmt.Fprintf(w, "and how often autovacuum analyzed (every plan reading the table made again) and vacuumed it in the run:\n")
			fmt.Fprintf(w, "  %-20s %7s %7s %7s %7s %9s %9s\n", "table", "inserts", "updates", "HOT", "deletes", "analyzed", "vacuumed")
			for _, t := range r.TableWrites {
				fmt.Fprintf(w, "  %-20s %7.2f %7.2f %7.2f %7.2f %9d %9d\n", t.Table, t.Inserts, t.Updates, t.HOTUpdates, t.Deletes, t.AutoAnalyzes, t.AutoVacuums)
			}
		}
		if len(r.TopIndexEntries) > 0 {
			fmt.Fprintf(w, "\nindex entries written per call offered, %s at %d/s: %.1f in all (from the WAL); the most:\n", r.label(), r.Rate, r.IndexEntries)
			for _, e := range r.TopIndexEntries {
				fmt.Fprintf(w, "  %-32s %6.2f\n", e.Index, e.PerCall)
			}
		} else if r.IndexNote != "" {
			fmt.Fprintf(w, "\nindex entries, %s at %d/s: not counted: %s\n", r.label(), r.Rate, r.IndexNote)
		}
		if len(r.TopStatements) == 0 || r.Calls == 0 {
			continue
		}
		fmt.Fprintf(w, "\nPostgreSQL statement time, %s at %d/s: %.3f ms execution and %.3f ms planning per call offered", r.label(), r.Rate, r.ExecMillis, r.PlanMillis)
		if r.HasCounters && r.Connections >= 0 {
			fmt.Fprintf(w, "; %d connections opened after the warm-up", r.Connections)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "\nmost frequent statements, %s at %d/s (per call offered):\n", r.label(), r.Rate)
		for _, s := range r.TopStatements {
			q := s.Query
			if len(q) > 110 {
				q = q[:107] + "…"
			}
			fmt.Fprintf(w, "  %5.2f  %s\n", float64(s.Calls)/float64(r.Calls), q)
		}
		if len(r.CostliestStatements) == 0 {
			continue
		}
		fmt.Fprintf(w, "\ncostliest statements, %s at %d/s (execution and planning ms, runs and plans, per call offered):\n", r.label(), r.Rate)
		for _, s := range r.CostliestStatements {
			fmt.Fprintf(w, "  %6.3f ms  %6.3f ms  %5.2f  %5.2f  %s\n", s.Millis/float64(r.Calls), s.PlanMillis/float64(r.Calls),
				float64(s.Calls)/float64(r.Calls), float64(s.Plans)/float64(r.Calls), shortQuery(s.Query))
		}
	}
}

// shortQuery is a statement cut to a table's width.
func shortQuery(q string) string {
	if len(q) > 100 {
		return q[:97] + "…"
	}
	return q
}

func ratio(rate int, b *baselineResult) string {
	if b == nil || b.TPS <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%.3f of the baseline's %.0f tx/s)", float64(rate)/b.TPS, b.TPS)
}

func cpuPerThousand(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", d.Seconds()*1000)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// quad is p50, p90, p99 and max, tab-separated.
func quad(s summary) string {
	return strings.Join([]string{latency(s, s.P50), latency(s, s.P90), latency(s, s.P99), latency(s, s.Max)}, "\t")
}

// latency prints d at a precision that suits its size; "-" when s is empty.
func latency(s summary, d time.Duration) string {
	switch {
	case s.N == 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", ms(d))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0fms", ms(d))
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// jsonLatency is a summary in milliseconds.
type jsonLatency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func jsonLat(s summary) jsonLatency {
	return jsonLatency{N: s.N, P50: ms(s.P50), P90: ms(s.P90), P99: ms(s.P99), Max: ms(s.Max)}
}

// jsonResult is a result as -json prints it.
type jsonResult struct {
	Store      string      `json:"store"`
	Rate       int         `json:"rate"`
	Run        int         `json:"run,omitempty"`
	Calls      int         `json:"calls"`
	Acked      int         `json:"acked"`
	Texts      int         `json:"texts"`
	Cards      int         `json:"cards"`
	Slack      bool        `json:"slack"`
	Seeded     bool        `json:"seeded"`
	Ack        jsonLatency `json:"ack"`
	Text       jsonLatency `json:"text"`
	Card       jsonLatency `json:"card"`
	Lag        jsonLatency `json:"generator_lag"`
	Lost       int         `json:"lost"`
	Duplicated int         `json:"duplicated"`
	LostTexts  int         `json:"lost_texts"`
	LostCards  int         `json:"lost_cards"`
	DupTexts   int         `json:"duplicated_texts"`
	DupCards   int         `json:"duplicated_cards"`
	Stray      int         `json:"stray"`
	Errors     int         `json:"errors"`
	WallS      float64     `json:"wall_s"`
	// CPU-seconds per 1,000 calls offered; absent when unknown.
	ServerCPU *float64           `json:"ringback_cpu_s_per_1k,omitempty"`
	DBCPU     *float64           `json:"postgres_cpu_s_per_1k,omitempty"`
	DBCPUBy   map[string]float64 `json:"postgres_cpu_s_per_1k_by_process,omitempty"`
	// The machine's CPUs busy over the run, and this command's, in cores.
	MachineBusy *float64 `json:"machine_busy_cores,omitempty"`
	LoadCPU     *float64 `json:"load_command_cores,omitempty"`
	LoadCPUPerK *float64 `json:"load_command_cpu_s_per_1k,omitempty"`
	CPUs        int      `json:"machine_cpus,omitempty"`
	// The call rates the machine's CPUs carry at the run's CPU per call
	// (result.ceiling); absent when unknown.
	Ceiling      *float64       `json:"cpu_ceiling_calls_per_s,omitempty"`
	CeilingApart *float64       `json:"cpu_ceiling_apart_calls_per_s,omitempty"`
	ConnWaits    []classWaits   `json:"connection_waits,omitempty"`
	ConnSpanS    float64        `json:"connection_waits_span_s,omitempty"`
	Statements   *float64       `json:"statements_per_call,omitempty"`
	ExecMs       *float64       `json:"statement_exec_ms_per_call,omitempty"`
	PlanMs       *float64       `json:"statement_plan_ms_per_call,omitempty"`
	Commits      *float64       `json:"transactions_per_call,omitempty"`
	Conns        *int           `json:"connections_opened,omitempty"`
	WALSyncs     *float64       `json:"wal_flushes_per_call,omitempty"`
	WALRecords   *float64       `json:"wal_records_per_call,omitempty"`
	DBNote       string         `json:"database_note,omitempty"`
	Top          []statement    `json:"top_statements,omitempty"`
	Tables       []tableRate    `json:"row_writes_per_call,omitempty"`
	Indexes      *float64       `json:"index_entries_per_call,omitempty"`
	TopIndexes   []indexEntry   `json:"index_entries,omitempty"`
	IndexNote    string         `json:"index_entries_note,omitempty"`
	SlackCalls   map[string]int `json:"slack_calls,omitempty"`
	Receipts     int            `json:"receipts"`
	ReceiptsNo   int            `json:"receipts_failed"`
	Metrics      jsonLatency    `json:"metrics_scrape"`
	MetricsBad   int            `json:"metrics_scrapes_failed"`
	Healthz      jsonLatency    `json:"healthz_scrape"`
	HealthzBad   int            `json:"healthz_scrapes_failed"`
	WarmupS      float64        `json:"warmup_s"`
	WarmAck      jsonLatency    `json:"warmup_ack"`
	Probe        jsonLatency    `json:"commit_probe"`
	ProbeBad     int            `json:"commit_probe_failed"`
	ProbeWhat    string         `json:"commit_probe_what,omitempty"`
	MeetsAll     bool           `json:"meets_targets"`
	Clean        bool           `json:"clean"`
}

type jsonReport struct {
	Runs     []jsonResult       `json:"runs"`
	Medians  []jsonMedian       `json:"medians,omitempty"`
	Baseline *jsonBaseline      `json:"baseline,omitempty"`
	MaxRate  map[string]int     `json:"max_sustained_rate,omitempty"`
	Ratio    map[string]float64 `json:"max_rate_to_baseline,omitempty"`
	Notes    []string           `json:"notes,omitempty"`
}

type jsonBaseline struct {
	Tool         string   `json:"tool"`
	Clients      int      `json:"clients"`
	Transactions int64    `json:"transactions"`
	TPS          float64  `json:"tps"`
	DBCPU        *float64 `json:"postgres_cpu_s_per_1k,omitempty"`
	WALSyncs     float64  `json:"wal_flushes_per_tx"`
}

// ptr is v, or nil (left out of the JSON) when it is not known.
func ptr[T any](ok bool, v T) *T {
	if !ok {
		return nil
	}
	return &v
}

func writeJSON(w io.Writer, rep report) error {
	out := jsonReport{Runs: []jsonResult{}, MaxRate: rep.MaxRate, Notes: rep.Notes}
	perK := func(r result, d time.Duration) *float64 {
		v := cpuPerK(r, d)
		return ptr(v >= 0, v)
	}
	cores := func(r result, d time.Duration) *float64 {
		return ptr(d >= 0 && r.Wall > 0 && r.CPUs > 0, r.cores(d))
	}
	for _, r := range rep.Runs {
		meets, _ := r.meets()
		all, apart := r.ceiling()
		out.Runs = append(out.Runs, jsonResult{
			LoadCPUPerK: perK(r, r.LoadCPU), Ceiling: ptr(all > 0, all), CeilingApart: ptr(apart > 0, apart),
			Store: r.Store, Rate: r.Rate, Run: r.Run, Calls: r.Calls, Acked: r.Acked, Texts: r.Texts, Cards: r.Cards,
			Slack: r.Slack, Seeded: r.Seeded,
			Ack: jsonLat(r.Ack), Text: jsonLat(r.Text), Card: jsonLat(r.Card), Lag: jsonLat(r.Lag),
			Lost: r.lost(), Duplicated: r.duplicated(), LostTexts: r.LostTexts, LostCards: r.LostCards,
			DupTexts: r.DupTexts, DupCards: r.DupCards, Stray: r.StrayTexts + r.StrayCards, Errors: r.Errors,
			WallS: r.Wall.Seconds(), ServerCPU: perK(r, r.ServerCPU), DBCPU: perK(r, r.DatabaseCPU), DBCPUBy: perKByKind(r),
			MachineBusy: cores(r, r.MachineBusy), LoadCPU: cores(r, r.LoadCPU), CPUs: r.CPUs, ConnWaits: r.ConnWaits, ConnSpanS: r.ConnSpan.Seconds(),
			Statements: ptr(r.Statements > 0, r.Statements), ExecMs: ptr(r.Statements > 0, r.ExecMillis), PlanMs: ptr(r.Statements > 0, r.PlanMillis), Commits: ptr(r.HasCounters, r.Commits), Conns: ptr(r.HasCounters && r.Connections >= 0, r.Connections),
			WALSyncs: ptr(r.HasCounters, r.WALSyncs), WALRecords: ptr(r.HasCounters, r.WALRecords),
			DBNote: r.DBNote, Top: r.TopStatements, Tables: r.TableWrites, SlackCalls: r.SlackCalls,
			Indexes: ptr(len(r.TopIndexEntries) > 0, r.IndexEntries), TopIndexes: r.TopIndexEntries, IndexNote: r.IndexNote,
			Receipts: r.Receipts, ReceiptsNo: r.ReceiptsFailed,
			Metrics: jsonLat(r.Metrics), MetricsBad: r.MetricsFailed, Healthz: jsonLat(r.Healthz), HealthzBad: r.HealthzFailed, MeetsAll: meets, Clean: r.clean(),
			Probe: jsonLat(r.Probe), ProbeBad: r.ProbeFailed, ProbeWhat: r.ProbeWhat,
			WarmupS: r.Warmup.Seconds(), WarmAck: jsonLat(r.WarmAck),
		})
	}
	for _, m := range medians(rep.Runs) {
		out.Medians = append(out.Medians, m.json())
	}
	if b := rep.Baseline; b != nil {
		jb := &jsonBaseline{Tool: b.Tool, Clients: b.Clients, Transactions: b.Transactions, TPS: b.TPS, WALSyncs: b.WALSyncs}
		if b.DBCPU >= 0 {
			v := b.DBCPU.Seconds() * 1000
			jb.DBCPU = &v
		}
		out.Baseline = jb
		if b.TPS > 0 && len(rep.MaxRate) > 0 {
			out.Ratio = map[string]float64{}
			for st, r := range rep.MaxRate {
				out.Ratio[st] = float64(r) / b.TPS
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// machineLine splits the machine's busy CPUs over the run between the
// processes measured: whether the figures are of a machine the server had
// to itself, or of one it shared with the load it was given. "" when not
// known.
func (r result) machineLine() string {
	if r.MachineBusy < 0 || r.Wall <= 0 || r.CPUs == 0 {
		return ""
	}
	line := fmt.Sprintf("%.2f of %d", r.cores(r.MachineBusy), r.CPUs)
	rest := r.MachineBusy
	for _, p := range []struct {
		name string
		cpu  time.Duration
	}{{"Ringback", r.ServerCPU}, {"PostgreSQL", r.DatabaseCPU}, {"this command (the calls, the stand-ins, the scrapes)", r.LoadCPU}} {
		if p.cpu >= 0 { // unknown (PostgreSQL's, on SQLite): left out
			line += fmt.Sprintf(", %s %.2f", p.name, r.cores(p.cpu))
			rest -= p.cpu
		}
	}
	return line + fmt.Sprintf(", the rest %.2f", r.cores(max(rest, 0)))
}

// ceiling is the call rate the machine's CPUs would carry at the run's
// CPU per call, Ringback's, PostgreSQL's and this command's together:
// whatever the targets, -find-max finds no more on this machine. apart is
// the same without this command's share, as when the calls and the
// remotes' stand-ins come from another machine. 0: unknown (PostgreSQL's
// CPU not read; on SQLite it is Ringback's).
func (r result) ceiling() (all, apart float64) {
	rb, pg, cmd := cpuPerK(r, r.ServerCPU), cpuPerK(r, r.DatabaseCPU), cpuPerK(r, r.LoadCPU)
	if r.CPUs == 0 || rb <= 0 || cmd < 0 || pg < 0 && r.Store != "sqlite" {
		return 0, 0
	}
	// CPU-seconds per 1,000 calls are milliseconds a call.
	server := rb + max(pg, 0)
	return 1000 * float64(r.CPUs) / (server + cmd), 1000 * float64(r.CPUs) / server
}

// ceilingLine says ceiling in words, with the CPU per call it is from.
func (r result) ceilingLine() string {
	all, apart := r.ceiling()
	if all == 0 {
		return ""
	}
	parts := fmt.Sprintf("Ringback %.2f ms", cpuPerK(r, r.ServerCPU))
	if pg := cpuPerK(r, r.DatabaseCPU); pg >= 0 {
		parts += fmt.Sprintf(", PostgreSQL %.2f ms", pg)
	}
	parts += fmt.Sprintf(", this command %.2f ms", cpuPerK(r, r.LoadCPU))
	return fmt.Sprintf("at this run's CPU per call (%s) the %d CPUs carry at most %.0f calls/s; %.0f with the calls and the stand-ins on another machine",
		parts, r.CPUs, all, apart)
}

// cores is CPU time d over the run's wall time: how many CPUs it kept busy.
func (r result) cores(d time.Duration) float64 { return d.Seconds() / r.Wall.Seconds() }

// perKByKind is DatabaseCPUByKind in CPU-seconds per 1,000 calls.
func perKByKind(r result) map[string]float64 {
	if len(r.DatabaseCPUByKind) == 0 || r.Calls == 0 {
		return nil
	}
	out := map[string]float64{}
	for k, t := range r.DatabaseCPUByKind {
		out[k] = t.Seconds() * 1000 / float64(r.Calls)
	}
	return out
}
