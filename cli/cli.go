// Package cli is Ringback's command line: it reads the environment and the
// config file, wires the store, the bot, the adapters and the HTTP server
// together, and runs one subcommand.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Run runs the subcommand named by args[0] (default serve) and returns the
// process exit code.
func Run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := &app{getenv: getenv, stdout: stdout, stderr: stderr}
	app.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("RINGBACK_LOG_LEVEL"))}))
	// Libraries that log through slog's default (migrations) share the handler.
	slog.SetDefault(app.log)
	switch cmd {
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "ringback: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
	if len(args) > 0 {
		if sub, ok := commands[cmd+" "+args[0]]; ok {
			run, args = sub, args[1:]
		}
	}
	err := run(app, ctx, args)
	if err != nil {
		if err != errReported {
			fmt.Fprintf(stderr, "ringback %s: %v\n", cmd, err)
		}
		return 1
	}
	return 0
}

// commands are the subcommands by name; "import calls" and "outbox retry"
// are found by their first two words. Each gets the arguments after its
// name; errors are reported under the first word.
var commands = map[string]func(a *app, ctx context.Context, args []string) error{
	"serve":        noFlags("serve", (*app).serve),
	"migrate":      noFlags("migrate", (*app).migrate),
	"check":        noFlags("check", (*app).check),
	"import":       (*app).importCmd,
	"import calls": (*app).importCalls,
	"digest":       (*app).digest,
	"export":       (*app).export,
	"outbox":       (*app).outbox,
	"outbox retry": (*app).outboxRetry,
	"demo":         (*app).demo,
	"webhooks":     (*app).webhooksCmd,
}

// noFlags makes a command that takes no flags: -h prints its usage and any
// other flag is refused.
func noFlags(name string, run func(a *app, ctx context.Context) error) func(*app, context.Context, []string) error {
	return func(a *app, ctx context.Context, args []string) error {
		if err := newFlags(name, a.stderr).Parse(args); err != nil {
			return errReported
		}
		return run(a, ctx)
	}
}

// errReported means the command already told the user what went wrong.
var errReported = fmt.Errorf("reported")

type app struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: ringback [command] [flags]

Commands:
  serve     run the server (default): webhooks, chat, outbox workers, timers
  migrate   apply database migrations and exit
  check     validate ringback.yaml and the environment; list every problem
  import    import contacts FILE.csv: load the property-management contacts export;
            import calls FILE.csv: load a phone system's call log as the digest's baseline
  digest    print a week's KPIs, total and per line: [--week 2026-W46] [--line NAME]
            [--format text|json|csv] [--png FILE] [--post]
  export    export events --from DATE --to DATE [--out FILE]: the audit trail as CSV
  outbox    [--state dead] list side effects by state (default: those that gave up);
            outbox retry [ID…] runs dead ones again once their cause is fixed
  webhooks  list subscriptions, recent deliveries and failures; webhooks test NAME;
            webhooks replay --since 24h [--name NAME]; webhooks enable NAME (after 410 Gone)
  demo      try Ringback in a browser sandbox: no Slack or Twilio account needed
  help      show this help

Environment: DATABASE_URL, RINGBACK_CONFIG, RINGBACK_ADDR, PUBLIC_URL,
SLACK_*, TWILIO_*, RINGBACK_WEBHOOK_SECRET, DISCORD_* (see README.md).
`)
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ringback "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
