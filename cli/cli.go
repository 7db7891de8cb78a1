// Package cli is Ringback's command line: it reads the environment and the
// config file, wires the store, the bot, the adapters and the HTTP server
// together, and runs one subcommand.
//
// The command tree is cobra's (github.com/spf13/cobra): it gives every
// command --help with usage and examples, shell completion and the
// GNU-style flags (pflag) operators know from kubectl, docker and gh. Each
// command's file builds its own *cobra.Command (flags, help) and keeps its
// work in a plain method; this file only assembles the tree and turns
// errors into messages and exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, as README.md documents them.
const (
	ExitOK      = 0 // the command did what it was asked
	ExitFailure = 1 // it failed or found problems (check), and said why
	ExitUsage   = 2 // the command line was wrong: unknown command, flag or argument
)

// Run runs the subcommand named by args (default serve) and returns the
// process exit code.
func Run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := &app{getenv: getenv, stdout: stdout, stderr: stderr}
	app.log = newLogger(stderr, getenv)
	// Libraries that log through slog's default (migrations) share the handler.
	slog.SetDefault(app.log)

	root := app.rootCmd()
	if args == nil {
		args = []string{} // cobra would read os.Args instead
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var usage usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", cmd.CommandPath(), message(err), cmd.CommandPath())
		return ExitUsage
	case errors.Is(err, errReported):
	default:
		fmt.Fprintf(stderr, "%s: %s\n", cmd.CommandPath(), message(err))
	}
	return ExitFailure
}

// rootCmd is the whole command tree; `ringback` alone serves.
func (a *app) rootCmd() *cobra.Command {
	serve := a.serveCmd()
	root := &cobra.Command{
		Use:   "ringback",
		Short: "Turn every missed phone call into an owned, timed task in the team's chat",
		Long: `Ringback turns every missed phone call into an owned, timed task in the
team's chat. Without a command it serves (as 'ringback serve').

Environment: DATABASE_URL, RINGBACK_CONFIG, RINGBACK_ADDR, PUBLIC_URL,
SLACK_*, TWILIO_*, RINGBACK_WEBHOOK_SECRET, DISCORD_* (see README.md).

Exit codes: 0 done; 1 failed or problems found (the message says which);
2 wrong command line (unknown command, flag or argument).`,
		Example: `  ringback demo                      # try it in a browser, no accounts needed
  ringback check --online            # validate config, environment, Slack and Twilio
  ringback serve                     # run the server
  ringback completion bash > /etc/bash_completion.d/ringback`,
		Version:      versionString(),
		Args:         noArgs,
		RunE:         serve.RunE,
		SilenceUsage: true,
		// Run prints errors itself, without cobra's "Error: " prefix.
		SilenceErrors: true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		serve,
		a.migrateCmd(),
		a.checkCmd(),
		group(&cobra.Command{
			Use:   "import",
			Short: "load a contacts export or a phone system's call log",
			Example: `  ringback import contacts contacts.csv
  ringback import calls --dry-run call-log.csv`,
		}, a.importContactsCmd(), a.importCallsCmd()),
		a.digestCmd(),
		group(&cobra.Command{
			Use:     "export",
			Short:   "export the audit trail as CSV",
			Example: `  ringback export events --from 2026-11-01 --to 2026-11-08 > events.csv`,
		}, a.exportEventsCmd()),
		a.outboxCmd(),
		a.tokensCmd(),
		a.webhooksCmd(),
		a.demoCmd(),
		a.probeCmd(),
	)
	return root
}

// group makes cmd a command that only holds subs: alone it prints its
// help; with an unknown word it is a usage error (cobra would print help
// and succeed).
func group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = noArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	cmd.AddCommand(subs...)
	return cmd
}

// noArgs refuses arguments (and missing required flags) as a usage error.
var noArgs = usageArgs(refuseArgs)

// refuseArgs refuses arguments, naming the command meant when it is close.
func refuseArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if !cmd.HasSubCommands() {
		msg = fmt.Sprintf("unexpected argument %q", args[0])
	}
	cmd.SuggestionsMinimumDistance = 2
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return errors.New(msg)
}

// usageArgs wraps a cobra argument check so its refusal is a usage error.
// It checks required flags too, which cobra would otherwise report as a
// plain failure after the argument check.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// oneFile takes exactly one argument, the file to read.
var oneFile = usageArgs(func(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want one FILE.csv, got %d arguments", len(args))
	}
	return nil
})

// usageError is a wrong command line: exit code 2 and a pointer to --help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errReported means the command already told the user what went wrong.
var errReported = errors.New("reported")

// internalPrefixes are the package names that start Ringback's errors
// ("cli: store: …"): useful in logs, noise to an operator at a terminal.
// slack, discord and sms stay: they say which service answered.
var internalPrefixes = []string{"cli", "config", "store", "bot", "handlers", "templates", "clean", "calllog", "charts", "sandbox"}

// message is err for a person: the internal package prefixes removed
// wherever a wrapped error begins. An error of several lines (the config's
// problems) becomes an indented list under the first.
func message(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for i, line := range lines {
		parts := strings.Split(line, ": ")
		kept := parts[:0]
		for j, p := range parts {
			if j < len(parts)-1 && isInternalPrefix(p) {
				continue
			}
			kept = append(kept, p)
		}
		lines[i] = strings.Join(kept, ": ")
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

func isInternalPrefix(s string) bool {
	for _, p := range internalPrefixes {
		if s == p {
			return true
		}
	}
	return false
}

// serveCmd runs the server; see serve.
func (a *app) serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "run the server: webhooks, chat, outbox workers, timers (the default command)",
		Long: `Runs Ringback until SIGTERM or SIGINT, then drains: the HTTP server stops
taking requests and finishes those in flight, the outbox workers finish
the rows they started, and the leader lease is released.

Serves /healthz (the process answers) and /readyz (the store answers and is
migrated) for probes, and /metrics for Prometheus.`,
		Example: `  DATABASE_URL=postgres://ringback@db/ringback RINGBACK_CONFIG=/etc/ringback/ringback.yaml ringback serve`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context()) },
	}
}

// migrateCmd applies the database migrations; see migrate.
func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "apply database migrations and exit",
		Long: `Applies the database migrations DATABASE_URL needs and prints the schema
version. serve migrates as it starts too; run this first when several
replicas start at once, or to migrate before a deploy.`,
		Example: `  DATABASE_URL=postgres://ringback@db/ringback ringback migrate`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.migrate(cmd.Context()) },
	}
}

type app struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
