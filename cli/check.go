package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"ringback/config"
	"ringback/store"
)

// checkCmd validates what serve will need before it is deployed.
func (a *app) checkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "validate ringback.yaml and the environment; list every problem",
		Long: `Reads RINGBACK_CONFIG and the environment as serve does and lists every
problem with its fix: unknown keys, channel names where Slack channel IDs
are needed, phone numbers that are not numbers, templates a category or
keyword needs, and the Slack, Twilio and PUBLIC_URL settings serve cannot
start without. With DATABASE_URL set it checks the database answers.

--online also asks Slack and Twilio: the token works, the bot is a member
of every line's channel and the digest channel, and each line's number is
on the Twilio account, takes SMS, and sends its calls, texts and status
callbacks to PUBLIC_URL.

Exits 1 when it finds a problem; warnings alone exit 0.`,
		Example: `  ringback check
  RINGBACK_CONFIG=/etc/ringback/ringback.yaml ringback check --online`,
		Args: noArgs,
	}
	var o checkOptions
	cmd.Flags().BoolVar(&o.online, "online", false, "also ask Slack and Twilio whether the channels and numbers are set up for Ringback")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.check(cmd.Context(), o) }
	return cmd
}

type checkOptions struct {
	online bool
}

// checkReport collects what check finds: problems (serve would fail or
// misbehave; exit 1) and warnings (worth knowing; exit 0). Each check step
// adds to it, so a new step is one more function.
type checkReport struct {
	problems, warnings []string
}

func (r *checkReport) problem(key, format string, args ...any) {
	r.problems = append(r.problems, config.Problem{Key: key, Message: fmt.Sprintf(format, args...)}.String())
}

func (r *checkReport) warning(key, format string, args ...any) {
	r.warnings = append(r.warnings, config.Problem{Key: key, Message: fmt.Sprintf(format, args...)}.String())
}

// check validates the config file and the environment and prints every
// problem found; with DATABASE_URL set it also checks the database answers,
// and with --online that Slack and Twilio are set up for this config.
func (a *app) check(ctx context.Context, o checkOptions) error {
	env := config.EnvFrom(a.getenv)
	var r checkReport
	for _, p := range env.Problems() {
		r.problems = append(r.problems, p.String())
	}
	cfg, err := a.loadConfig(&env)
	var ps config.Problems
	var drift []config.Problem // templates edited in chat since the file
	switch {
	case errors.As(err, &ps):
		for _, p := range ps {
			r.problems = append(r.problems, env.ConfigPath+": "+p.String())
		}
	case err != nil:
		r.problems = append(r.problems, err.Error())
	}
	checkServeNeeds(&r, env)
	if cfg != nil {
		for _, p := range cfg.WebhookSecretProblems(a.getenv) {
			r.problems = append(r.problems, env.ConfigPath+": "+p.String())
		}
	}
	if env.DatabaseURL != "" {
		drift = a.checkDatabase(ctx, &r, env, cfg)
	}
	// Missing optional templates do not stop Ringback: each has a built-in
	// text. They are listed so an operator can write their own, with
	// phrase rules that name no category.
	var ws []config.Problem
	if cfg != nil {
		ws = cfg.Warnings()
	} else {
		ws = config.LoadWarnings(env.ConfigPath)
	}
	ws = append(ws, drift...)
	for _, w := range ws {
		r.warnings = append(r.warnings, env.ConfigPath+": "+w.String())
	}
	if o.online && cfg != nil {
		checkSlackOnline(ctx, &r, env, cfg)
		checkTwilioOnline(ctx, &r, env, cfg)
	}

	if len(r.warnings) > 0 {
		fmt.Fprintf(a.stderr, "%d warning(s):\n", len(r.warnings))
		for _, w := range r.warnings {
			fmt.Fprintf(a.stderr, "  %s\n", w)
		}
	}
	if len(r.problems) > 0 {
		fmt.Fprintf(a.stderr, "%d problem(s):\n", len(r.problems))
		for _, p := range r.problems {
			fmt.Fprintf(a.stderr, "  %s\n", p)
		}
		return errReported
	}
	online := ""
	if o.online {
		online = "; Slack and Twilio agree"
	}
	fmt.Fprintf(a.stdout, "%s: ok (%d lines, %d categories, %d templates)%s\n", env.ConfigPath, len(cfg.Lines), len(cfg.Categories), len(cfg.Templates), online)
	return nil
}

// checkServeNeeds reports the settings serve runs without but production
// cannot: a chat to post in, Twilio, and the public address Twilio calls.
func checkServeNeeds(r *checkReport, env config.Env) {
	if env.SlackBotToken == "" && env.DiscordBotToken == "" {
		r.problem("SLACK_BOT_TOKEN", "unset (and no DISCORD_BOT_TOKEN): serve has no chat to post cards in; set the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page")
	}
	if env.SlackBotToken != "" && env.SlackSigningSecret == "" && env.SlackAppToken == "" {
		r.problem("SLACK_SIGNING_SECRET", "unset (and no SLACK_APP_TOKEN): Claim and the other buttons cannot reach Ringback; set the Signing Secret from the Slack app's Basic Information page, or SLACK_APP_TOKEN (xapp-…) for Socket Mode")
	}
	if env.TwilioAccountSID == "" && env.TwilioAuthToken == "" {
		r.problem("TWILIO_ACCOUNT_SID", "unset (and TWILIO_AUTH_TOKEN): Twilio's calls cannot be verified and no text-back can be sent; set both from the Twilio console's Account Info")
	}
	if env.PublicURL == "" {
		r.problem("PUBLIC_URL", "unset: Twilio's webhooks and signatures need Ringback's public address; set PUBLIC_URL=https://ringback.example.com (what Twilio and Slack reach)")
	} else if u, err := url.Parse(env.PublicURL); err == nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		r.warning("PUBLIC_URL", "%q is plain http: Twilio and Slack send caller numbers and messages to it; use https", env.PublicURL)
	}
	if env.DatabaseURL == "" {
		r.warning("DATABASE_URL", "unset: the embedded SQLite file serves one replica on one machine; set DATABASE_URL=postgres://… for production")
	}
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkDatabase: the database answers and its schema is not newer than
// this binary.
func (a *app) checkDatabase(ctx context.Context, r *checkReport, env config.Env, cfg *config.Config) (drift []config.Problem) {
	// Long enough for a database busy with other work (CI saw 5 s run out
	// on a loaded one), short enough to report an unreachable one.
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := store.Open(ctx, env.DatabaseURL)
	if err != nil {
		r.problem("DATABASE_URL", "%v", err)
		return nil
	}
	defer s.Close()
	cur, latest, err := s.SchemaVersion(ctx)
	switch {
	case err != nil:
		r.problem("DATABASE_URL", "%v", err)
	case cur > latest:
		r.problem("DATABASE_URL", "schema version %d is newer than this binary (%d): upgrade Ringback", cur, latest)
	case cfg != nil && cur > 0:
		// Templates edited in chat since the file: the store is their source.
		if drift, err = templateDrift(ctx, s, cfg); err != nil {
			r.problem("DATABASE_URL", "%v", err)
		}
	}
	return drift
}
