package config

import (
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Env holds the secrets and settings that come from the environment
// (DESIGN.md, "Configuration"). Secrets never go in ringback.yaml so the file
// can be committed and reviewed.
type Env struct {
	DatabaseURL        string // DATABASE_URL; empty selects the embedded SQLite file
	ConfigPath         string // RINGBACK_CONFIG, default "ringback.yaml"
	Addr               string // RINGBACK_ADDR, default ":8080"
	PublicURL          string // PUBLIC_URL, trailing slash trimmed
	SlackBotToken      string // SLACK_BOT_TOKEN
	SlackAppToken      string // SLACK_APP_TOKEN; Socket Mode when set
	SlackSigningSecret string // SLACK_SIGNING_SECRET
	SlackAPIURL        string // SLACK_API_URL, must end with "/" when set
	TwilioAccountSID   string // TWILIO_ACCOUNT_SID
	TwilioAuthToken    string // TWILIO_AUTH_TOKEN
	TwilioAPIURL       string // TWILIO_API_URL
	WebhookSecret      string // RINGBACK_WEBHOOK_SECRET
	DiscordBotToken    string // DISCORD_BOT_TOKEN
	DiscordPublicKey   string // DISCORD_PUBLIC_KEY
	DiscordAppID       string // DISCORD_APP_ID
	DiscordAPIURL      string // DISCORD_API_URL: override of https://discord.com (tests, the demo)
}

// EnvFrom reads the environment through getenv (os.Getenv in main, a map in
// tests) and applies the defaults. Values are trimmed of surrounding spaces,
// a common accident when pasting secrets into .env files.
func EnvFrom(getenv func(string) string) Env {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	return Env{
		DatabaseURL:        get("DATABASE_URL", ""),
		ConfigPath:         get("RINGBACK_CONFIG", "ringback.yaml"),
		Addr:               get("RINGBACK_ADDR", ":8080"),
		PublicURL:          strings.TrimRight(get("PUBLIC_URL", ""), "/"),
		SlackBotToken:      get("SLACK_BOT_TOKEN", ""),
		SlackAppToken:      get("SLACK_APP_TOKEN", ""),
		SlackSigningSecret: get("SLACK_SIGNING_SECRET", ""),
		SlackAPIURL:        get("SLACK_API_URL", ""),
		TwilioAccountSID:   get("TWILIO_ACCOUNT_SID", ""),
		TwilioAuthToken:    get("TWILIO_AUTH_TOKEN", ""),
		TwilioAPIURL:       get("TWILIO_API_URL", ""),
		WebhookSecret:      get("RINGBACK_WEBHOOK_SECRET", ""),
		DiscordBotToken:    get("DISCORD_BOT_TOKEN", ""),
		DiscordPublicKey:   get("DISCORD_PUBLIC_KEY", ""),
		DiscordAppID:       get("DISCORD_APP_ID", ""),
		DiscordAPIURL:      get("DISCORD_API_URL", ""),
	}
}

func setOrUnset(v string) string {
	if v == "" {
		return "unset"
	}
	return "set"
}

// LogValue lets Env be logged at start-up. Secrets and the database URL
// (which carries a password) appear only as "set" or "unset".
func (e Env) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database", e.database()),
		slog.String("database_url", setOrUnset(e.DatabaseURL)),
		slog.String("config_path", e.ConfigPath),
		slog.String("addr", e.Addr),
		slog.String("public_url", e.PublicURL),
		slog.String("slack_bot_token", setOrUnset(e.SlackBotToken)),
		slog.String("slack_app_token", setOrUnset(e.SlackAppToken)),
		slog.String("slack_signing_secret", setOrUnset(e.SlackSigningSecret)),
		slog.String("slack_api_url", e.SlackAPIURL),
		slog.String("twilio_account_sid", setOrUnset(e.TwilioAccountSID)),
		slog.String("twilio_auth_token", setOrUnset(e.TwilioAuthToken)),
		slog.String("twilio_api_url", e.TwilioAPIURL),
		slog.String("webhook_secret", setOrUnset(e.WebhookSecret)),
		slog.String("discord_bot_token", setOrUnset(e.DiscordBotToken)),
		slog.String("discord_public_key", setOrUnset(e.DiscordPublicKey)),
		slog.String("discord_app_id", e.DiscordAppID),
		slog.String("discord_api_url", e.DiscordAPIURL),
	)
}

// database names the store DATABASE_URL selects, safe to log.
func (e Env) database() string {
	if e.DatabaseURL == "" || isSQLiteURL(e.DatabaseURL) {
		return "sqlite"
	}
	return "postgres"
}

// isSQLiteURL: sqlite:PATH or file:PATH names another SQLite file (tests,
// the demo, a second local instance).
func isSQLiteURL(s string) bool {
	return strings.HasPrefix(s, "sqlite:") || strings.HasPrefix(s, "file:")
}

var (
	accountSIDRE = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	hex64RE      = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	snowflakeRE  = regexp.MustCompile(`^[0-9]+$`)
)

// Problems lists settings that are malformed or inconsistent. Messages never
// quote a secret's value.
func (e Env) Problems() []Problem {
	var ps []Problem
	add := func(key, msg string) { ps = append(ps, Problem{Key: key, Message: msg}) }

	if e.DatabaseURL != "" && !isSQLiteURL(e.DatabaseURL) {
		u, err := url.Parse(e.DatabaseURL)
		switch {
		case err != nil:
			add("DATABASE_URL", "is not a URL")
		case u.Scheme != "postgres" && u.Scheme != "postgresql":
			add("DATABASE_URL", "scheme "+quote(u.Scheme)+" is neither postgres://, postgresql:// nor sqlite:PATH")
		}
	}
	if _, _, err := net.SplitHostPort(e.Addr); err != nil {
		add("RINGBACK_ADDR", quote(e.Addr)+" is not host:port (e.g. :8080)")
	}
	if e.PublicURL != "" && !httpURL(e.PublicURL) {
		add("PUBLIC_URL", quote(e.PublicURL)+" is not an http(s) URL")
	}
	// Twilio signs webhooks over the public URL; without it none would verify.
	if e.PublicURL == "" && e.TwilioAuthToken != "" {
		add("PUBLIC_URL", "required when TWILIO_AUTH_TOKEN is set (Twilio signatures are checked against it)")
	}

	if e.SlackAPIURL != "" {
		if !httpURL(e.SlackAPIURL) {
			add("SLACK_API_URL", quote(e.SlackAPIURL)+" is not an http(s) URL")
		} else if !strings.HasSuffix(e.SlackAPIURL, "/") {
			add("SLACK_API_URL", "must end with \"/\"")
		}
	}
	// The two Slack tokens are easy to swap; their prefixes tell them apart.
	if e.SlackBotToken != "" && !strings.HasPrefix(e.SlackBotToken, "xoxb-") {
		add("SLACK_BOT_TOKEN", "is not a bot token (xoxb-…)")
	}
	if e.SlackAppToken != "" && !strings.HasPrefix(e.SlackAppToken, "xapp-") {
		add("SLACK_APP_TOKEN", "is not an app-level token (xapp-…)")
	}

	if e.TwilioAccountSID != "" && !accountSIDRE.MatchString(e.TwilioAccountSID) {
		add("TWILIO_ACCOUNT_SID", "is not AC followed by 32 hex digits")
	}
	if e.TwilioAuthToken != "" && e.TwilioAccountSID == "" {
		add("TWILIO_ACCOUNT_SID", "required when TWILIO_AUTH_TOKEN is set")
	}
	if e.TwilioAccountSID != "" && e.TwilioAuthToken == "" {
		add("TWILIO_AUTH_TOKEN", "required when TWILIO_ACCOUNT_SID is set")
	}
	if e.TwilioAPIURL != "" && !httpURL(e.TwilioAPIURL) {
		add("TWILIO_API_URL", quote(e.TwilioAPIURL)+" is not an http(s) URL")
	}

	if e.DiscordPublicKey != "" && !hex64RE.MatchString(e.DiscordPublicKey) {
		add("DISCORD_PUBLIC_KEY", "is not 64 hex digits (an Ed25519 public key)")
	}
	if e.DiscordAppID != "" && !snowflakeRE.MatchString(e.DiscordAppID) {
		add("DISCORD_APP_ID", quote(e.DiscordAppID)+" is not a numeric application ID")
	}
	return ps
}

func quote(s string) string { return strconv.Quote(s) }
