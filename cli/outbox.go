package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"ringback/config"
	"ringback/store"
)

// outbox lists outbox rows in a state (default dead): the side effects that
// gave up, with why, so an operator can see what never happened; `outbox
// retry [ID…]` runs dead rows again once their cause is fixed.
func (a *app) outbox(ctx context.Context, args []string) error {
	fs := newFlags("outbox", a.stderr)
	state := fs.String("state", store.OutboxDead, "pending, running, done or dead")
	limit := fs.Int("limit", 50, "rows to list")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	switch *state {
	case store.OutboxPending, store.OutboxRunning, store.OutboxDone, store.OutboxDead:
	default:
		return fmt.Errorf("cli: --state %q is not pending, running, done or dead", *state)
	}
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	counts, err := s.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "outbox: %d pending, %d running, %d done, %d dead\n",
		counts[store.OutboxPending], counts[store.OutboxRunning], counts[store.OutboxDone], counts[store.OutboxDead])
	rows, err := s.OutboxByState(ctx, *state, *limit)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tCASE\tATTEMPTS\tUPDATED\tLAST ERROR")
	for _, it := range rows {
		c := "-"
		if it.CaseID != nil {
			c = fmt.Sprintf("#%d", *it.CaseID)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%d/%d\t%s\t%s\n", it.ID, it.Kind, c, it.Attempts, it.MaxAttempts, it.UpdatedAt.UTC().Format("2006-01-02 15:04:05"), it.LastError)
	}
	return w.Flush()
}

func (a *app) outboxRetry(ctx context.Context, args []string) error {
	var ids []int64
	for _, arg := range args {
		id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
		if err != nil {
			return fmt.Errorf("cli: %q is not an outbox row id", arg)
		}
		ids = append(ids, id)
	}
	s, err := openAndMigrate(ctx, config.EnvFrom(a.getenv).DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.RequeueDead(ctx, time.Now(), ids...)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "requeued %d dead row(s); the running servers perform them now\n", n)
	return nil
}
