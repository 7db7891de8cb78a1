package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"ringback/bot"
	"ringback/bot/charts"
	rbslack "ringback/bot/slack"
)

// digest prints a week's digest, the numbers the Monday post carries:
//
//	ringback digest [--week 2026-W46] [--line NAME] [--format text|json|csv] [--png FILE] [--post]
//
// --post sends it to the digest channel straight away rather than through
// the outbox: a worker pass here would also take the server's queued texts
// and cards, which this command cannot perform. A manual post therefore
// never stops the scheduled one.
func (a *app) digest(ctx context.Context, args []string) error {
	fs := newFlags("digest", a.stderr)
	week := fs.String("week", "last", `the ISO week, like 2026-W46; "last" is the last full week, "this" the week so far`)
	line := fs.String("line", "", "only this line, by name (default: every line)")
	format := fs.String("format", "text", "text, json or csv")
	pngPath := fs.String("png", "", "also write the chart (missed calls by hour and by day) to this PNG file")
	post := fs.Bool("post", false, "also post the digest and its chart to the digest channel in Slack (needs SLACK_BOT_TOKEN)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ringback digest [flags]\n\nPrints a week's KPIs, total and per line, with the change against the week before.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "ringback digest: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errReported
	}
	switch *format {
	case "text", "json", "csv":
	default:
		return fmt.Errorf("cli: --format %q: want text, json or csv", *format)
	}

	env, cfg, err := a.configured()
	if err != nil {
		return err
	}
	if *post {
		// Refused before any work, so a typo costs nothing.
		switch {
		case env.SlackBotToken == "":
			return errors.New("cli: --post needs SLACK_BOT_TOKEN")
		case cfg.Digest.Channel == "":
			return fmt.Errorf("cli: --post needs digest.channel in %s", env.ConfigPath)
		}
	}
	clock := bot.SystemClock{}
	p, err := bot.ISOWeek(*week, clock.Now(), cfg.Business.Timezone)
	if err != nil {
		return fmt.Errorf("cli: --week: %w", err)
	}

	s, err := openAndMigrate(ctx, env.DatabaseURL)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	defer s.Close()
	b := bot.New(bot.Deps{Store: s, Config: cfg, Clock: clock, Log: a.log})
	d, err := b.Digest(ctx, p, *line)
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}

	var out []byte
	switch *format {
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
	if *pngPath != "" {
		img, err := charts.DigestPNG(d)
		if err != nil {
			return fmt.Errorf("cli: %w", err)
		}
		if err := os.WriteFile(*pngPath, img, 0o644); err != nil {
			return fmt.Errorf("cli: write chart: %w", err)
		}
		fmt.Fprintf(a.stderr, "chart written to %s\n", *pngPath)
	}
	if *post {
		adapter := rbslack.New(env.SlackBotToken, "", env.SlackAPIURL, b, a.log)
		if err := b.PostDigest(ctx, adapter, d); err != nil {
			return fmt.Errorf("cli: post the digest: %w", err)
		}
		fmt.Fprintf(a.stderr, "digest for %s posted to Slack channel %s with its chart\n", d.Label, cfg.Digest.Channel)
	}
	return nil
}
