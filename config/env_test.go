package config

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func envOf(vars map[string]string) Env {
	return EnvFrom(func(k string) string { return vars[k] })
}

const (
	testSID       = "AC0123456789abcdef0123456789abcdef"
	testSecret    = "s3cr3t-value-never-logged"
	testPublicKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestEnvFromDefaults(t *testing.T) {
	e := envOf(nil)
	if e.ConfigPath != "ringback.yaml" || e.Addr != ":8080" || e.DatabaseURL != "" {
		t.Errorf("defaults = %+v", e)
	}
	if p := e.Problems(); len(p) != 0 {
		t.Errorf("empty environment has problems: %v", p)
	}
}

func TestEnvFrom(t *testing.T) {
	e := envOf(map[string]string{
		"DATABASE_URL":            "postgres://ringback:pw@db/ringback",
		"RINGBACK_CONFIG":         "/etc/ringback.yaml",
		"RINGBACK_ADDR":           "127.0.0.1:9000",
		"PUBLIC_URL":              "https://rb.example.com/",
		"SLACK_BOT_TOKEN":         "xoxb-1",
		"SLACK_APP_TOKEN":         "xapp-1",
		"SLACK_SIGNING_SECRET":    "sig",
		"SLACK_API_URL":           "http://localhost:9999/api/",
		"TWILIO_ACCOUNT_SID":      testSID,
		"TWILIO_AUTH_TOKEN":       " tok \n",
		"TWILIO_API_URL":          "http://localhost:9998",
		"RINGBACK_WEBHOOK_SECRET": "hook",
		"DISCORD_BOT_TOKEN":       "dbt",
		"DISCORD_PUBLIC_KEY":      testPublicKey,
		"DISCORD_APP_ID":          "123456789",
	})
	want := Env{
		DatabaseURL: "postgres://ringback:pw@db/ringback", ConfigPath: "/etc/ringback.yaml", Addr: "127.0.0.1:9000",
		PublicURL: "https://rb.example.com", SlackBotToken: "xoxb-1", SlackAppToken: "xapp-1", SlackSigningSecret: "sig",
		SlackAPIURL: "http://localhost:9999/api/", TwilioAccountSID: testSID, TwilioAuthToken: "tok",
		TwilioAPIURL: "http://localhost:9998", WebhookSecret: "hook", DiscordBotToken: "dbt",
		DiscordPublicKey: testPublicKey, DiscordAppID: "123456789",
	}
	if e != want {
		t.Errorf("EnvFrom =\n%+v\nwant\n%+v", e, want)
	}
	if p := e.Problems(); len(p) != 0 {
		t.Errorf("valid environment has problems: %v", p)
	}
}

func TestEnvProblems(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"slack api url slash", map[string]string{"SLACK_API_URL": "http://localhost:9999/api"}, `SLACK_API_URL: must end with "/"`},
		{"public url scheme", map[string]string{"PUBLIC_URL": "rb.example.com"}, `PUBLIC_URL: "rb.example.com" is not an http(s) URL`},
		{"public url needed by twilio", map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": "t"}, "PUBLIC_URL: required when TWILIO_AUTH_TOKEN is set (Twilio signatures are checked against it)"},
		{"account sid shape", map[string]string{"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_URL": "https://x"}, "TWILIO_ACCOUNT_SID: is not AC followed by 32 hex digits"},
		{"token without sid", map[string]string{"TWILIO_AUTH_TOKEN": "t", "PUBLIC_URL": "https://x"}, "TWILIO_ACCOUNT_SID: required when TWILIO_AUTH_TOKEN is set"},
		{"sid without token", map[string]string{"TWILIO_ACCOUNT_SID": testSID}, "TWILIO_AUTH_TOKEN: required when TWILIO_ACCOUNT_SID is set"},
		{"database scheme", map[string]string{"DATABASE_URL": "mysql://u:" + testSecret + "@h/db"}, `DATABASE_URL: scheme "mysql" is neither postgres://, postgresql:// nor sqlite:PATH`},
		{"postgresql scheme is fine", map[string]string{"DATABASE_URL": "postgresql://h/db", "SLACK_BOT_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN: is not a bot token (xoxb-…)"},
		{"app token", map[string]string{"SLACK_APP_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN: is not an app-level token (xapp-…)"},
		{"addr", map[string]string{"RINGBACK_ADDR": "8080"}, `RINGBACK_ADDR: "8080" is not host:port (e.g. :8080)`},
		{"twilio api url", map[string]string{"TWILIO_API_URL": "localhost"}, `TWILIO_API_URL: "localhost" is not an http(s) URL`},
		{"discord key", map[string]string{"DISCORD_PUBLIC_KEY": "abc"}, "DISCORD_PUBLIC_KEY: is not 64 hex digits (an Ed25519 public key)"},
		{"discord app id", map[string]string{"DISCORD_APP_ID": "app"}, `DISCORD_APP_ID: "app" is not a numeric application ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range envOf(tt.vars).Problems() {
				got = append(got, p.String())
			}
			if !slices.Contains(got, tt.want) {
				t.Errorf("problems %q, want among them %q", got, tt.want)
			}
			if len(got) != 1 {
				t.Errorf("want exactly one problem, got %q", got)
			}
			for _, p := range got {
				if strings.Contains(p, testSecret) {
					t.Errorf("problem quotes a secret: %s", p)
				}
			}
		})
	}
}

func TestEnvLogValueHidesSecrets(t *testing.T) {
	secrets := map[string]string{
		"DATABASE_URL":            "postgres://u:" + testSecret + "@db/rb",
		"SLACK_BOT_TOKEN":         "xoxb-" + testSecret,
		"SLACK_APP_TOKEN":         "xapp-" + testSecret,
		"SLACK_SIGNING_SECRET":    testSecret,
		"TWILIO_AUTH_TOKEN":       testSecret,
		"RINGBACK_WEBHOOK_SECRET": testSecret,
		"DISCORD_BOT_TOKEN":       testSecret,
		"PUBLIC_URL":              "https://rb.example.com",
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("start", "env", envOf(secrets))
	out := buf.String()
	if strings.Contains(out, testSecret) {
		t.Fatalf("log shows a secret: %s", out)
	}
	for _, want := range []string{"env.database=postgres", "env.slack_bot_token=set", "env.twilio_auth_token=set", "env.twilio_account_sid=unset", "env.public_url=https://rb.example.com", "env.addr=:8080"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
}

func TestEnvAcceptsSQLiteURL(t *testing.T) {
	e := EnvFrom(func(k string) string {
		if k == "DATABASE_URL" {
			return "sqlite:/var/lib/ringback/ringback.db"
		}
		return ""
	})
	if ps := e.Problems(); len(ps) != 0 {
		t.Fatalf("sqlite URL refused: %v", ps)
	}
	if e.database() != "sqlite" {
		t.Fatalf("logged as %s", e.database())
	}
}
