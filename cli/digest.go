package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"ringback/bot"
	"ringback/bot/charts"
	rbslack "ringback/bot/slack"
)

// digestCmd prints a week's digest, the numbers the Monday post carries.
func (a *app) digestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "print a week's KPIs, total and per line",
		Long: `Prints a week's KPIs, total and per line, with the change against the
week before: the numbers the Monday digest post carries.

--post sends it to the digest channel straight away rather than through
the outbox: a worker pass here would also take the server's queued texts
and cards, which this command cannot perform. A manual post therefore
never stops the scheduled one.`,
		Example: `  ringback digest
  ringback digest --week 2026-W46 --line Maintenance --format csv
  ringback digest --png chart.png --post`,
		Args: noArgs,
	}
	var o digestOptions
	fs := cmd.Flags()
	fs.StringVar(&o.week, "week", "last", `the ISO week, like 2026-W46; "last" is the last full week, "this" the week so far`)
	fs.StringVar(&o.line, "line", "", "only this line, by name (default: every line)")
	fs.StringVar(&o.format, "format", "text", "text, json or csv")
	fs.StringVar(&o.png, "png", "", "also write the chart (missed calls by hour and by day) to this PNG file")
	fs.BoolVar(&o.post, "post", false, "also post the digest and its chart to the digest channel in Slack (needs SLACK_BOT_TOKEN)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.digest(cmd.Context(), o) }
	return cmd
}

type digestOptions struct {
	week, line, format, png string
	post                    bool
}

func (a *app) digest(ctx context.Context, o digestOptions) error {
	switch o.format {
	case "text", "json", "csv":
	default:
		return fmt.Errorf("cli: --format %q: want text, json or csv", o.format)
	}

	env, cfg, err := a.configured()
	if err != nil {
		return err
	}
	if o.post {
		// Refused before any work, so a typo costs nothing.
		switch {
		case env.SlackBotToken == "":
			return errors.New("cli: --post needs SLACK_BOT_TOKEN")
		case cfg.Digest.Channel == "":
			return fmt.Errorf("cli: --post needs digest.channel in %s", env.ConfigPath)
		}
	}
	clock := bot.SystemClock{}
	p, err := bot.ISOWeek(o.week, clock.Now(), cfg.Business.Timezone)
	if err != nil {
		return fmt.Errorf("cli: --week: %w", err)
	}

	s, err := openAndMigrate(ctx, env.DatabaseURL)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	defer s.Close()
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: a.log})
	d, err := b.Digest(ctx, p, o.line)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}

	var out []byte
	switch o.format {
	case "json":
		out, err = d.JSON()
	case "csv":
		out, err = d.CSV()
	default:
		out = []byte(d.Text())
	}
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	if _, err := a.stdout.Write(out); err != nil {
		return fmt.Errorf("cli: write digest: %w", err)
	}

	// Reports go to stderr, so that --format json or csv stays clean to pipe.
	if o.png != "" {
		img, err := charts.DigestPNG(d)
		if err != nil {
			return fmt.Errorf("cli: %w", err)
		}
		if err := os.WriteFile(o.png, img, 0o644); err != nil {
			return fmt.Errorf("cli: write chart: %w", err)
		}
		fmt.Fprintf(a.stderr, "chart written to %s\n", o.png)
	}
	if o.post {
		adapter := rbslack.New(env.SlackBotToken, "", env.SlackAPIURL, b, a.log)
		if err := b.PostDigest(ctx, adapter, d); err != nil {
			return fmt.Errorf("cli: post the digest: %w", err)
		}
		fmt.Fprintf(a.stderr, "digest for %s posted to Slack channel %s with its chart\n", d.Label, cfg.Digest.Channel)
	}
	return nil
}
