package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ringback/config"
	"ringback/store"
)

// outboxCmd lists outbox rows in a state (default dead): the side effects
// that gave up, with why, so an operator can see what never happened;
// `outbox retry [ID…]` runs dead rows again once their cause is fixed.
func (a *app) outboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "list side effects by state (default: those that gave up)",
		Long: `Lists the outbox's side effects (texts, cards, posts) in a state, with the
last error of each; by default the dead ones, which gave up. Fix their
cause, then run 'ringback outbox retry'.`,
		Example: `  ringback outbox
  ringback outbox --state pending --limit 20
  ringback outbox retry 42 43`,
		Args: noArgs,
	}
	var o outboxOptions
	fs := cmd.Flags()
	fs.StringVar(&o.state, "state", store.OutboxDead, "pending, running, done or dead")
	fs.IntVar(&o.limit, "limit", 50, "rows to list")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.outbox(cmd.Context(), o) }
	cmd.AddCommand(&cobra.Command{
		Use:   "retry [ID...]",
		Short: "run dead side effects again (all, or those IDs) once their cause is fixed",
		Example: `  ringback outbox retry
  ringback outbox retry 42 '#43'`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.outboxRetry(cmd.Context(), args) },
	})
	return cmd
}

type outboxOptions struct {
	state string
	limit int
}

func (a *app) outbox(ctx context.Context, o outboxOptions) error {
	switch o.state {
	case store.OutboxPending, store.OutboxRunning, store.OutboxDone, store.OutboxDead:
	default:
		return fmt.Errorf("cli: --state %q is not pending, running, done or dead", o.state)
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
	rows, err := s.OutboxByState(ctx, o.state, o.limit)
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
