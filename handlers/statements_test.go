package handlers_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

// outboxStatements sorts the outbox's statements into what they do.
var outboxStatements = map[string][]string{
	"claim":     {"UPDATE outbox SET state = 'running'"},
	"settle":    {"UPDATE outbox SET state = ?"},
	"complete":  {"UPDATE outbox SET state = 'done'"},
	"requeue":   {"UPDATE outbox SET state = 'pending'"},
	"insert":    {"INSERT INTO outbox"},
	"wake":      {"GROUP BY lane) w GROUP BY lane"},
	"heartbeat": {"UPDATE outbox SET lease_until"},
}

// statementsPerCall has calls missed calls come in, from different callers,
// and their side effects performed, counting the statements they cost.
func statementsPerCall(t *testing.T, h *harness, from, calls int) *store.Statements {
	c := h.store.CountStatements()
	for i := from; i < from+calls; i++ {
		h.missedCall(fmt.Sprintf("CA%032d", i), fmt.Sprintf("+4477009%05d", i), lettings)
	}
	h.flush()
	h.store.StopCounting()
	var sent int
	if err := h.store.DB().Get(&sent, "SELECT COUNT(*) FROM messages WHERE sid IS NOT NULL"); err != nil || sent != from+calls {
		t.Fatalf("texts sent = %d (%v), want %d", sent, err, calls)
	}
	return c
}

func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// perCall is what report found.
type perCall struct{ outbox, claimAndSettle float64 }

// report logs the statements per call, the outbox's by what they do, and
// returns the totals of the outbox's and of the statements of their own
// claiming and settling rows.
func report(t *testing.T, c *store.Statements, calls int) (r perCall) {
	var outbox float64
	var lines []string
	for _, sc := range c.Counts() {
		lines = append(lines, fmt.Sprintf("%6.2f  %.110s", float64(sc.Calls)/float64(calls), sc.Query))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(lines)))
	for what, words := range outboxStatements {
		n := c.Total(words...)
		outbox += float64(n)
		// A row marked done by the statement that records its side effect
		// (WITH …) costs no statement of its own.
		own := n
		for _, sc := range c.Counts() {
			if strings.HasPrefix(sc.Query, "WITH ") && containsAll(sc.Query, words) {
				own -= sc.Calls
			}
		}
		if what != "insert" {
			r.claimAndSettle += float64(own)
		}
		t.Logf("outbox %-9s %.2f per call (%.2f of their own)", what, float64(n)/float64(calls), float64(own)/float64(calls))
	}
	t.Logf("outbox %-9s %.2f per call (NOTIFYs, gathered by time)", "notify", float64(c.Notifies)/float64(calls))
	r.outbox = outbox / float64(calls)
	t.Logf("statements per call: %.2f (outbox %.2f), commits per call %.2f (transactions) + %.2f (single writes)\n%s",
		float64(c.Total())/float64(calls), outbox/float64(calls), float64(c.Commits)/float64(calls), float64(c.Autocommits)/float64(calls), strings.Join(lines, "\n"))
	return r
}

// TestOutboxStatementsPerMissedCall counts what a missed call's side
// effects (text-back, card, thread entries) cost in outbox statements,
// alone and in a burst of calls performed together.
func TestOutboxStatementsPerMissedCall(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		t.Log("one call:")
		report(t, statementsPerCall(t, h, 0, 1), 1)
		t.Log("20 calls:")
		c := report(t, statementsPerCall(t, h, 1, 20), 20)
		// Claiming and settling the 80 rows of 20 calls took 83 statements
		// (a statement per row to mark it done): now the rows are claimed
		// a lane's worth at a time and marked done together, or in the
		// transaction (PostgreSQL: the statement) that records a text, a
		// thread entry or a first card.
		if got := c.claimAndSettle / 20; got > 2.5 {
			t.Errorf("claiming and settling cost %.2f statements of their own per call, want at most 2.5", got)
		}
	})
}

// BenchmarkMissedCallStatements has b.N missed calls come in, eight at a
// time, while the outbox worker runs as in production (Run, not RunDue),
// and reports what each call cost the database: statements (all, and the
// outbox's by what they do) and commits.
func BenchmarkMissedCallStatements(b *testing.B) {
	for _, backend := range storetest.Backends(b) {
		b.Run(backend, func(b *testing.B) {
			h := newHarnessTB(b, backend)
			h.runOutbox(b)
			c := h.store.CountStatements()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
						h.missedCall(fmt.Sprintf("CA%032d", i), fmt.Sprintf("+4477009%05d", i), lettings)
					}
				}()
			}
			wg.Wait()
			for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
				var left int
				if err := h.store.DB().Get(&left, h.store.DB().Rebind(`SELECT COUNT(*) FROM outbox WHERE state = 'running' OR (state = 'pending' AND run_at <= ?)`), h.clock.Now()); err != nil {
					b.Fatal(err)
				}
				if left == 0 {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%d outbox rows still to run after 2 minutes", left)
				}
			}
			b.StopTimer()
			h.store.StopCounting()
			n := float64(b.N)
			b.ReportMetric(float64(c.Total())/n, "stmts/call")
			var outbox float64
			for what, words := range outboxStatements {
				k := float64(c.Total(words...)) / n
				outbox += k
				b.ReportMetric(k, what+"/call")
			}
			b.ReportMetric(outbox, "outbox-stmts/call")
			b.ReportMetric(float64(c.Notifies)/n, "notify/call")
			b.ReportMetric(float64(c.Commits+c.Autocommits)/n, "commits/call")
		})
	}
}

// The outbox keeps every done row for its retention (a week by default:
// hundreds of thousands of rows on a busy line). No statement of a missed
// call, a staff reply, the caller's text, its delivery receipt, a
// worker's claim or what reads the running rows all the time may read that
// history: each was found reading it whole
// (a caller's text looking for its case's latest thread batch on both
// stores; on SQLite, which keeps no statistics here, every claim and
// every thread entry's card check too), a cost that grew with the table
// and, on SQLite, held the one connection every webhook waits for.
func TestStatementsReadNoOutboxHistory(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.missed("CA"+strings.Repeat("0", 31)+"1", "+447700900111", lettings)
		if _, err := h.store.DB().Exec(`INSERT INTO outbox (kind, dedupe_key, payload, case_id, state, attempts, max_attempts,
				run_at, locked_by, last_error, created_at, updated_at, claim_seq, lane)
			WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000)
			SELECT 'chat.thread.slack', 'history:' || i, '{}', NULL, 'done', 1, 5,
				'2026-11-01T00:00:00Z', '', '', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', 1, 'slack' FROM s`); err != nil {
			t.Fatal(err)
		}
		if h.store.Dialect() == "postgres" {
			// As autovacuum does once a table has grown; Ringback never
			// analyzes SQLite.
			if _, err := h.store.DB().Exec("ANALYZE outbox"); err != nil {
				t.Fatal(err)
			}
		}
		c := h.store.CountStatements()
		_, sent := h.staffReply("CA"+strings.Repeat("0", 31)+"2", "+447700900222")
		h.texted("+447700900222", lettings, "Yes please, after 5")
		h.receipt(sent.SID, "delivered", 0)
		h.flush()
		// The claims of the worker's pools: a lane of its own, the rest.
		for _, claim := range []store.OutboxClaim{{Lanes: []string{store.LaneSMS}},
			{ExceptLanes: []string{store.LaneSMS, store.LaneSlack, store.LaneDiscord}}} {
			claim.Worker, claim.Limit, claim.Lease, claim.Now = "plans", 10, time.Minute, h.clock.Now()
			if _, err := h.store.ClaimOutbox(t.Context(), claim); err != nil {
				t.Fatal(err)
			}
		}
		// What reads the running rows all the time: a /metrics scrape, the
		// worker's look at its lanes and whether it is busy, and a replica
		// starting in a seat.
		if _, err := h.store.OutboxBacklog(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.OutboxLanes(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.OutboxBusy(t.Context(), h.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.ReleaseOutboxClaims(t.Context(), "no-such-seat"); err != nil {
			t.Fatal(err)
		}
		h.store.StopCounting()
		plans, err := c.Plans(t.Context(), h.store)
		if err != nil {
			t.Fatal(err)
		}
		if len(plans) < 20 {
			t.Fatalf("%d statements explained, want the flow's (20 or more)", len(plans))
		}
		for _, p := range plans {
			if !strings.Contains(p.Query, "outbox") {
				continue
			}
			for _, line := range p.Plan {
				if readsOutboxHistory(line) {
					t.Errorf("reads the outbox's history (%s): %.300s\n  plan: %s", strings.TrimSpace(line), p.Query, strings.Join(p.Plan, " | "))
				}
			}
		}
	})
}

// readsOutboxHistory tells whether a line of a plan of a statement on the
// outbox reads more than the rows it wants or the active ones: a
// sequential scan of the table (PostgreSQL), or on SQLite a scan that uses
// no index on active rows only, or a range of row ids.
func readsOutboxHistory(line string) bool {
	line = strings.TrimSpace(line)
	switch {
	case strings.Contains(line, "Seq Scan on outbox"):
		return true
	case strings.Contains(line, "rowid>") || strings.Contains(line, "rowid<"):
		return true
	case strings.HasPrefix(line, "SCAN ") && !strings.HasPrefix(line, "SCAN CONSTANT ROW") && !strings.HasSuffix(line, "VALUES CLAUSE"):
		for _, active := range []string{"outbox_lane_active", "outbox_due"} {
			if strings.HasSuffix(line, "USING INDEX "+active) || strings.HasSuffix(line, "USING COVERING INDEX "+active) {
				return false
			}
		}
		return true
	}
	return false
}
