package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// median is, for a store and rate offered several times (-runs), the
// median of each headline figure over its runs: a machine's slow spell
// moves one run, not the figure read off them ("three runs each").
type median struct {
	Store                    string // its label: "postgres+seed" for a seeded store
	Rate, Runs               int
	Met                      int // how many of the runs met every target
	AckP99, TextP99, CardP99 time.Duration
	// CPU-seconds per 1,000 calls and, on PostgreSQL, statements and WAL
	// flushes per call; < 0 when a run does not know them.
	ServerCPU, DatabaseCPU float64
	Statements, WALSyncs   float64
	// This command's CPU-seconds per 1,000 calls, and the call rate the
	// machine's CPUs carry at the run's CPU per call (result.ceiling);
	// < 0 when a run does not know them.
	LoadCPU, Ceiling float64
}

// medians lists a median for every store and rate run more than once, in
// the order they were first run.
func medians(runs []result) []median {
	type key struct {
		store string
		rate  int
	}
	var order []key
	by := map[key][]result{}
	for _, r := range runs {
		k := key{r.label(), r.Rate}
		if _, seen := by[k]; !seen {
			order = append(order, k)
		}
		by[k] = append(by[k], r)
	}
	var out []median
	for _, k := range order {
		rs := by[k]
		if len(rs) < 2 {
			continue
		}
		m := median{Store: k.store, Rate: k.rate, Runs: len(rs),
			AckP99:      time.Duration(middle(rs, func(r result) float64 { return float64(r.Ack.P99) })),
			TextP99:     time.Duration(middle(rs, func(r result) float64 { return float64(r.Text.P99) })),
			CardP99:     time.Duration(middle(rs, func(r result) float64 { return float64(r.Card.P99) })),
			ServerCPU:   middle(rs, func(r result) float64 { return cpuPerK(r, r.ServerCPU) }),
			DatabaseCPU: middle(rs, func(r result) float64 { return cpuPerK(r, r.DatabaseCPU) }),
			Statements: middle(rs, func(r result) float64 {
				if r.Statements <= 0 {
					return -1
				}
				return r.Statements
			}),
			WALSyncs: middle(rs, func(r result) float64 {
				if !r.HasCounters {
					return -1
				}
				return r.WALSyncs
			}),
			LoadCPU: middle(rs, func(r result) float64 { return cpuPerK(r, r.LoadCPU) }),
			Ceiling: middle(rs, func(r result) float64 {
				if all, _ := r.ceiling(); all > 0 {
					return all
				}
				return -1
			}),
		}
		for _, r := range rs {
			if ok, _ := r.meets(); ok {
				m.Met++
			}
		}
		out = append(out, m)
	}
	return out
}

// middle is the median of f over rs (the mean of the two middle values
// of an even count), or -1 when f is unknown (< 0) for any of them.
func middle(rs []result, f func(result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		if vs[i] = f(r); vs[i] < 0 {
			return -1
		}
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// cpuPerK is d in CPU-seconds per 1,000 calls offered in r; -1 unknown.
func cpuPerK(r result, d time.Duration) float64 {
	if d < 0 || r.Calls == 0 {
		return -1
	}
	return d.Seconds() * 1000 / float64(r.Calls)
}

// writeMedians prints ms as a table, when there are any.
func writeMedians(w io.Writer, ms []median) {
	if len(ms) == 0 {
		return
	}
	fmt.Fprintln(w, "\nmedians over each store and rate's runs (-runs):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store   \trate/s\truns\tmet targets\tack p99\ttext p99\tcard p99\trb cpu-s/1k\tpg cpu-s/1k\tstatements\tWAL flushes\tcmd cpu-s/1k\tcpu ceiling/s\t")
	for _, m := range ms {
		fmt.Fprintf(tw, "%-8s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Store, m.Rate, m.Runs, m.Met,
			latency(summary{N: m.Runs}, m.AckP99), latency(summary{N: m.Runs}, m.TextP99), latency(summary{N: m.Runs}, m.CardP99),
			known(m.ServerCPU, "%.2f"), known(m.DatabaseCPU, "%.2f"), known(m.Statements, "%.2f"), known(m.WALSyncs, "%.2f"),
			known(m.LoadCPU, "%.2f"), known(m.Ceiling, "%.0f"))
	}
	_ = tw.Flush()
}

// known is v in format, or "-" when it is unknown (< 0).
func known(v float64, format string) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// jsonMedian is a median as -json prints it.
type jsonMedian struct {
	Store       string   `json:"store"`
	Rate        int      `json:"rate"`
	Runs        int      `json:"runs"`
	Met         int      `json:"runs_meeting_targets"`
	AckP99      float64  `json:"ack_p99_ms"`
	TextP99     float64  `json:"text_p99_ms"`
	CardP99     float64  `json:"card_p99_ms"`
	ServerCPU   *float64 `json:"ringback_cpu_s_per_1k,omitempty"`
	DatabaseCPU *float64 `json:"postgres_cpu_s_per_1k,omitempty"`
	Statements  *float64 `json:"statements_per_call,omitempty"`
	WALSyncs    *float64 `json:"wal_flushes_per_call,omitempty"`
	LoadCPU     *float64 `json:"load_command_cpu_s_per_1k,omitempty"`
	Ceiling     *float64 `json:"cpu_ceiling_calls_per_s,omitempty"`
}

func (m median) json() jsonMedian {
	return jsonMedian{Store: m.Store, Rate: m.Rate, Runs: m.Runs, Met: m.Met,
		AckP99: ms(m.AckP99), TextP99: ms(m.TextP99), CardP99: ms(m.CardP99),
		ServerCPU: ptr(m.ServerCPU >= 0, m.ServerCPU), DatabaseCPU: ptr(m.DatabaseCPU >= 0, m.DatabaseCPU),
		Statements: ptr(m.Statements >= 0, m.Statements), WALSyncs: ptr(m.WALSyncs >= 0, m.WALSyncs),
		LoadCPU: ptr(m.LoadCPU >= 0, m.LoadCPU), Ceiling: ptr(m.Ceiling >= 0, m.Ceiling)}
}
