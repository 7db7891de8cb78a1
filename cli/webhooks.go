package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
)

// webhooksCmd is `ringback webhooks [test NAME | replay --since … | enable
// NAME]`: without a verb it lists subscriptions, recent deliveries and
// failures. Messages are only queued here; the server's outbox sends them.
func (a *app) webhooksCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "list webhook subscriptions, recent deliveries and failures",
		Long: `Lists the outbound webhook subscriptions of ringback.yaml with their state,
and the recent deliveries and failures. 'test' and 'replay' only queue
messages: the running servers' outbox sends them.`,
		Example: `  ringback webhooks
  ringback webhooks test crm
  ringback webhooks replay --since 24h --name crm
  ringback webhooks enable crm`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withWebhooks(cmd.Context(), func(ctx context.Context, s *store.Store, cfg *config.Config, _ *bot.Bot) error {
				return listWebhooks(ctx, a.stdout, s, cfg, limit)
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "deliveries to list")
	var since, only string
	replay := &cobra.Command{
		Use:     "replay --since WHEN [--name NAME]",
		Short:   "queue again the events since a time (RFC 3339, 2006-01-02, or a duration back such as 24h)",
		Example: `  ringback webhooks replay --since 2026-11-30 --name crm`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since, time.Now())
			if err != nil {
				return usageError{err}
			}
			return a.withWebhooks(cmd.Context(), func(ctx context.Context, _ *store.Store, _ *config.Config, b *bot.Bot) error {
				return replayWebhooks(ctx, a.stdout, b, only, from)
			})
		},
	}
	replay.Flags().StringVar(&since, "since", "", "events from this time (RFC 3339, 2006-01-02, or a duration back such as 24h)")
	replay.Flags().StringVar(&only, "name", "", "only to this subscription")
	cmd.AddCommand(&cobra.Command{
		Use:     "test NAME",
		Short:   "queue a signed webhook.test event to one subscription",
		Example: `  ringback webhooks test crm`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withWebhooks(cmd.Context(), func(ctx context.Context, _ *store.Store, _ *config.Config, b *bot.Bot) error {
				return testWebhook(ctx, a.stdout, b, args[0])
			})
		},
	}, replay, &cobra.Command{
		Use:     "enable NAME",
		Short:   "enable a subscription again after its receiver answered 410 Gone",
		Example: `  ringback webhooks enable crm`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withWebhooks(cmd.Context(), func(ctx context.Context, s *store.Store, cfg *config.Config, _ *bot.Bot) error {
				return enableWebhook(ctx, a.stdout, s, cfg, args[0])
			})
		},
	})
	return cmd
}

// withWebhooks runs fn with the config, the migrated store and a bot on them.
func (a *app) withWebhooks(ctx context.Context, fn func(context.Context, *store.Store, *config.Config, *bot.Bot) error) error {
	env := config.EnvFrom(a.getenv)
	cfg, err := a.loadConfig(&env)
	if err != nil {
		return err
	}
	s, err := openAndMigrate(ctx, env.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(ctx, s, cfg, bot.New(bot.Deps{Store: s, Config: cfg, Log: a.log, Getenv: a.getenv}))
}

// parseSince reads --since: an RFC 3339 time, a date (UTC midnight), or a
// duration back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("cli: webhooks replay needs --since (e.g. 24h or 2026-11-16)")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("cli: --since %q is not a time, a date or a duration", s)
}

// listWebhooks prints each subscription with its state, then the latest
// deliveries, then the latest failures.
func listWebhooks(ctx context.Context, out io.Writer, s *store.Store, cfg *config.Config, limit int) error {
	states, err := s.WebhookSubscriptionStates(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SUBSCRIPTION\tURL\tEVENTS\tLINES\tSTATE")
	for _, sub := range cfg.Webhooks {
		state := "enabled"
		if st := states[sub.Name]; st.DisabledAt != nil {
			state = fmt.Sprintf("DISABLED %s (%s): ringback webhooks enable %s", st.DisabledAt.UTC().Format(time.DateTime), st.DisabledReason, sub.Name)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", sub.Name, sub.URL, orAll(sub.Events), orAll(sub.Lines), state)
	}
	if len(cfg.Webhooks) == 0 {
		fmt.Fprintln(w, "(none: add a webhooks: list to ringback.yaml)")
	}
	for _, part := range []struct {
		title  string
		failed bool
	}{{"\nRECENT DELIVERIES", false}, {"\nFAILURES", true}} {
		ds, err := s.RecentWebhookDeliveries(ctx, limit, part.failed)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, part.title)
		fmt.Fprintln(w, "ID\tSUBSCRIPTION\tWEBHOOK-ID\tTYPE\tCASE\tSTATE\tATTEMPTS\tHTTP\tUPDATED\tLAST ERROR")
		for _, d := range ds {
			c := "-"
			if d.CaseID != nil {
				c = fmt.Sprintf("#%d", *d.CaseID)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.ID, d.Subscription, d.MessageID, d.Type, c, d.State,
				d.Attempts, d.LastStatus, d.UpdatedAt.UTC().Format(time.DateTime), d.LastError)
		}
	}
	return w.Flush()
}

func orAll(xs []string) string {
	if len(xs) == 0 {
		return "all"
	}
	return strings.Join(xs, ",")
}

func testWebhook(ctx context.Context, out io.Writer, b *bot.Bot, name string) error {
	id, err := b.TestWebhook(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "queued webhook.test %s to %s; the server sends it (see `ringback webhooks`)\n", id, name)
	return nil
}

func replayWebhooks(ctx context.Context, out io.Writer, b *bot.Bot, name string, since time.Time) error {
	n, err := b.ReplayWebhooks(ctx, name, since)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "queued %d messages since %s again; the server sends them with their original webhook-id\n", n, since.UTC().Format(time.RFC3339))
	return nil
}

func enableWebhook(ctx context.Context, out io.Writer, s *store.Store, cfg *config.Config, name string) error {
	if _, ok := cfg.Webhook(name); !ok {
		return fmt.Errorf("cli: no webhook called %q in the config", name)
	}
	enabled, err := s.EnableWebhookSubscription(ctx, name)
	if err != nil {
		return err
	}
	if !enabled {
		fmt.Fprintf(out, "%s was not disabled\n", name)
		return nil
	}
	fmt.Fprintf(out, "%s enabled; events while it was disabled were not queued: `ringback webhooks replay --name %s --since …` sends them\n", name, name)
	return nil
}
