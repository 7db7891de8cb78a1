package store

import (
	"sort"
	"strings"
	"sync"
)

// Statements counts the statements a store sends, by their text: what a
// request costs, for tests and benchmarks. BEGIN, COMMIT and ROLLBACK count
// as statements, as pg_stat_statements counts them.
type Statements struct {
	mu     sync.Mutex
	counts map[string]int
	order  []string
	// Commits counts the transactions committed; Autocommits the writes run
	// outside a transaction, each committing on its own (together: about
	// the WAL flushes on PostgreSQL).
	Commits, Autocommits int
	// Notifies counts the NOTIFYs sent to other replicas. They are not in
	// Total or Sequence: one carries whatever was enqueued within notifyGap
	// of the last, so how many a request causes depends on timing, and a
	// count that did would differ from run to run.
	Notifies int
}

// CountStatements starts counting every statement s sends from now on
// (replacing an earlier counter) and returns the counter.
func (s *Store) CountStatements() *Statements {
	c := &Statements{counts: map[string]int{}}
	s.counter.Store(c)
	return c
}

// StopCounting stops the counter CountStatements started; what it counted
// stays readable.
func (s *Store) StopCounting() { s.counter.Store(nil) }

// note counts one statement, when someone counts.
func (s *Store) note(query string) {
	if c := s.counter.Load(); c != nil {
		c.add(query)
	}
}

// notified counts a NOTIFY, when someone counts.
func (s *Store) notified() {
	if c := s.counter.Load(); c != nil {
		c.mu.Lock()
		c.Notifies++
		c.mu.Unlock()
	}
}

// NotifyCount is Notifies, read while NOTIFYs may still be counted.
func (c *Statements) NotifyCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Notifies
}

// countedIn notes query, run by q, when statements are being counted: a
// write outside a transaction is also an autocommit.
func (q queries) countedIn(query string) {
	c := q.s.counter.Load()
	if c == nil {
		return
	}
	c.add(query)
	if q.tx == nil && writes(query) {
		c.mu.Lock()
		c.Autocommits++
		c.mu.Unlock()
	}
}

func (c *Statements) commit() {
	c.mu.Lock()
	c.Commits++
	c.mu.Unlock()
}

func (c *Statements) add(query string) {
	q := strings.Join(strings.Fields(query), " ")
	c.mu.Lock()
	c.counts[q]++
	c.order = append(c.order, q)
	c.mu.Unlock()
}

// Sequence lists the statements in the order they were sent.
func (c *Statements) Sequence() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.order...)
}

// Total is how many statements were sent whose SQL contains every one of
// words (all of them with none).
func (c *Statements) Total(words ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for q, k := range c.counts {
		match := true
		for _, w := range words {
			match = match && strings.Contains(q, w)
		}
		if match {
			n += k
		}
	}
	return n
}

// StatementCount is how often one statement's text was sent.
type StatementCount struct {
	Query string
	Calls int
}

// Counts lists the statements sent, most frequent first.
func (c *Statements) Counts() []StatementCount {
	c.mu.Lock()
	out := make([]StatementCount, 0, len(c.counts))
	for q, n := range c.counts {
		out = append(out, StatementCount{Query: q, Calls: n})
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].Query < out[j].Query
	})
	return out
}

// writes reports whether query changes rows: an INSERT, UPDATE or DELETE,
// or a WITH whose clauses do.
func writes(query string) bool {
	switch statementVerb(query) {
	case "INSERT", "UPDATE", "DELETE":
		return true
	case "WITH":
		for _, w := range []string{"INSERT INTO", "UPDATE ", "DELETE FROM"} {
			if strings.Contains(query, w) {
				return true
			}
		}
	}
	return false
}
