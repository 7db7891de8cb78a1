package handlers_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"ringback/store"
)

// outboxStatements sorts the outbox's statements into what they do.
var outboxStatements = map[string][]string{
	"claim":     {"UPDATE outbox SET state = 'running'"},
	"settle":    {"UPDATE outbox SET state = ?"},
	"insert":    {"INSERT INTO outbox"},
	"wake":      {"GROUP BY lane) w GROUP BY lane"},
	"notify":    {"pg_notify"},
	"heartbeat": {"UPDATE outbox SET lease_until"},
}

// statementsPerCall has calls missed calls come in, from different callers,
// and their side effects performed, counting the statements they cost.
func statementsPerCall(t *testing.T, h *harness, from, calls int) *store.Counts {
	stop := h.store.CountStatements()
	for i := from; i < from+calls; i++ {
		h.missedCall(fmt.Sprintf("CA%032d", i), fmt.Sprintf("+4477009%05d", i), lettings)
	}
	h.flush()
	c := stop()
	var sent int
	if err := h.store.DB().Get(&sent, "SELECT COUNT(*) FROM messages WHERE sid IS NOT NULL"); err != nil || sent != from+calls {
		t.Fatalf("texts sent = %d (%v), want %d", sent, err, calls)
	}
	return c
}

// report logs the statements per call, the outbox's by what they do.
func report(t *testing.T, c *store.Counts, calls int) (outbox float64) {
	var lines []string
	for q, n := range c.Statements {
		lines = append(lines, fmt.Sprintf("%6.2f  %.110s", float64(n)/float64(calls), q))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(lines)))
	for what, words := range outboxStatements {
		n := c.Total(words...)
		outbox += float64(n)
		t.Logf("outbox %-9s %.2f per call", what, float64(n)/float64(calls))
	}
	t.Logf("statements per call: %.2f (outbox %.2f), commits per call %.2f\n%s",
		float64(c.Total())/float64(calls), outbox/float64(calls), float64(c.Commits)/float64(calls), strings.Join(lines, "\n"))
	return outbox / float64(calls)
}

// TestOutboxStatementsPerMissedCall counts what a missed call's side
// effects (text-back, card, thread entries) cost in outbox statements,
// alone and in a burst of calls performed together.
func TestOutboxStatementsPerMissedCall(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		t.Log("one call:")
		report(t, statementsPerCall(t, h, 0, 1), 1)
		t.Log("20 calls:")
		report(t, statementsPerCall(t, h, 1, 20), 20)
	})
}
