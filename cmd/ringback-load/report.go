package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"ringback/cmd/internal/harness"
)

// The target, on PostgreSQL at 200 calls/s.
const (
	targetStore   = "postgres"
	targetRate    = 200
	targetAckP99  = 25 * time.Millisecond
	targetSentP99 = 250 * time.Millisecond
)

// summary describes a set of latency samples.
type summary = harness.Summary

// result is one store × rate run.
type result struct {
	Store      string
	Rate       int
	Calls      int
	Texts      int // messages the stand-in accepted
	Ack        summary
	Sent       summary
	Lag        summary // generator: actual − scheduled send time
	Lost       int
	Duplicates int
	Errors     int
	Stray      int     // texts to numbers that did not call
	ServerCPU  float64 // server CPU time / wall time; −1: unknown
	// DatabaseCPU is the CPU time of the run database's PostgreSQL
	// backends / wall time; −1: unknown (SQLite runs inside the server).
	DatabaseCPU float64
}

// clean reports whether nothing was lost, duplicated or refused.
func (r result) clean() bool {
	return r.Lost == 0 && r.Duplicates == 0 && r.Errors == 0 && r.Stray == 0
}

func writeTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store   \trate/s\tcalls\tack p50\tack p99\tsent p50\tsent p99\tlost\tdup\terrors\tlag p99\tsrv cpu\tdb cpu\t")
	for _, r := range results {
		cpu, dbCPU := percent(r.ServerCPU), percent(r.DatabaseCPU)
		dup := fmt.Sprint(r.Duplicates)
		if r.Stray > 0 {
			dup += fmt.Sprintf("+%d stray", r.Stray)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t\n",
			fmt.Sprintf("%-8s", r.Store), r.Rate, r.Calls,
			latency(r.Ack, r.Ack.P50), latency(r.Ack, r.Ack.P99),
			latency(r.Sent, r.Sent.P50), latency(r.Sent, r.Sent.P99),
			r.Lost, dup, r.Errors, latency(r.Lag, r.Lag.P99), cpu, dbCPU)
	}
	_ = tw.Flush()
}

// percent prints a fraction of one core; "-" when unknown.
func percent(f float64) string {
	if f < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// writeTargets says, for the run the issue sets targets for, whether they
// were met.
func writeTargets(w io.Writer, results []result) {
	for _, r := range results {
		if r.Store != targetStore || r.Rate != targetRate {
			continue
		}
		verdict := func(ok bool) string {
			if ok {
				return "ok"
			}
			return "MISSED"
		}
		fmt.Fprintf(w, "\ntarget %s at %d/s: ack p99 %s ≤ %s %s; sent p99 %s ≤ %s %s; lost/dup/errors %s\n",
			r.Store, r.Rate,
			latency(r.Ack, r.Ack.P99), targetAckP99, verdict(r.Ack.N > 0 && r.Ack.P99 <= targetAckP99),
			latency(r.Sent, r.Sent.P99), targetSentP99, verdict(r.Sent.N > 0 && r.Sent.P99 <= targetSentP99),
			verdict(r.clean()))
	}
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

// jsonResult is a result as -json prints it; latencies in milliseconds.
type jsonResult struct {
	Store      string   `json:"store"`
	Rate       int      `json:"rate"`
	Calls      int      `json:"calls"`
	Texts      int      `json:"texts"`
	AckP50     float64  `json:"ack_p50_ms"`
	AckP99     float64  `json:"ack_p99_ms"`
	AckMax     float64  `json:"ack_max_ms"`
	SentP50    float64  `json:"sent_p50_ms"`
	SentP99    float64  `json:"sent_p99_ms"`
	SentMax    float64  `json:"sent_max_ms"`
	Lost       int      `json:"lost"`
	Duplicates int      `json:"duplicates"`
	Errors     int      `json:"errors"`
	Stray      int      `json:"stray"`
	LagP99     float64  `json:"generator_lag_p99_ms"`
	ServerCPU  *float64 `json:"server_cpu,omitempty"`   // fraction of one core
	DBCPU      *float64 `json:"database_cpu,omitempty"` // fraction of one core
	OK         bool     `json:"ok"`
}

func writeJSON(w io.Writer, results []result) error {
	out := make([]jsonResult, 0, len(results))
	for _, r := range results {
		j := jsonResult{
			Store: r.Store, Rate: r.Rate, Calls: r.Calls, Texts: r.Texts,
			AckP50: ms(r.Ack.P50), AckP99: ms(r.Ack.P99), AckMax: ms(r.Ack.Max),
			SentP50: ms(r.Sent.P50), SentP99: ms(r.Sent.P99), SentMax: ms(r.Sent.Max),
			Lost: r.Lost, Duplicates: r.Duplicates, Errors: r.Errors, Stray: r.Stray,
			LagP99: ms(r.Lag.P99), OK: r.clean(),
		}
		if r.ServerCPU >= 0 {
			cpu := r.ServerCPU
			j.ServerCPU = &cpu
		}
		if r.DatabaseCPU >= 0 {
			cpu := r.DatabaseCPU
			j.DBCPU = &cpu
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
