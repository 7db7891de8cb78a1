package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	// args holds the arguments each statement was first sent with, for
	// Plans.
	args map[string][]any
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
	c := &Statements{counts: map[string]int{}, args: map[string][]any{}}
	s.counter.Store(c)
	return c
}

// StopCounting stops the counter CountStatements started; what it counted
// stays readable.
func (s *Store) StopCounting() { s.counter.Store(nil) }

// note counts one statement, when someone counts.
func (s *Store) note(query string) {
	if c := s.counter.Load(); c != nil {
		c.add(query, nil)
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
func (q queries) countedIn(query string, args []any) {
	c := q.s.counter.Load()
	if c == nil {
		return
	}
	c.add(query, args)
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

func (c *Statements) add(query string, args []any) {
	q := strings.Join(strings.Fields(query), " ")
	c.mu.Lock()
	c.counts[q]++
	c.order = append(c.order, q)
	if _, ok := c.args[q]; !ok && args != nil {
		c.args[q] = args
	}
	c.mu.Unlock()
}

// StatementPlan is how the database runs one statement: the lines of its
// EXPLAIN (SQLite: EXPLAIN QUERY PLAN).
type StatementPlan struct {
	Query string
	Plan  []string
}

// Plans asks s's database how it runs each statement c counted, with the
// arguments the statement was first sent with (EXPLAIN runs nothing): what
// a statement reads as its tables grow, for tests.
func (c *Statements) Plans(ctx context.Context, s *Store) ([]StatementPlan, error) {
	c.mu.Lock()
	args := maps.Clone(c.args)
	c.mu.Unlock()
	var plans []StatementPlan
	for _, q := range slices.Sorted(maps.Keys(args)) {
		plan, err := explain(ctx, s, q, args[q])
		if err != nil {
			return nil, fmt.Errorf("store: explain %.80s: %w", q, err)
		}
		plans = append(plans, StatementPlan{Query: q, Plan: plan})
	}
	return plans, nil
}

// explain is the lines of the plan of query with args: PostgreSQL's
// EXPLAIN is one text column, SQLite's EXPLAIN QUERY PLAN ends with the
// line's text (id, parent, notused, detail).
func explain(ctx context.Context, s *Store, query string, args []any) ([]string, error) {
	prefix := "EXPLAIN "
	if s.Dialect() == "sqlite" {
		prefix = "EXPLAIN QUERY PLAN "
	}
	release, err := s.turn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := s.db.QueryContext(ctx, prefix+s.d.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	cells := make([]any, len(cols))
	for i := range cells {
		cells[i] = new(string)
	}
	var plan []string
	for rows.Next() {
		if err := rows.Scan(cells...); err != nil {
			return nil, err
		}
		plan = append(plan, *cells[len(cells)-1].(*string))
	}
	return plan, rows.Err()
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
