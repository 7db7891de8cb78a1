package config

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseWebhooks(t *testing.T) {
	base, err := os.ReadFile("../ringback.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := string(base) + `
webhooks:
  - name: crm
    url: https://crm.example.com/hooks/ringback
    secret_env: CRM_WEBHOOK_SECRET
    previous_secret_env: CRM_WEBHOOK_SECRET_OLD
    events: [case.opened, case.closed]
    lines: ["+441632960001"]
  - name: zapier
    url: http://127.0.0.1:9000/hook
    secret_env: ZAPIER_SECRET
`
	cfg, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	crm, ok := cfg.Webhook("crm")
	if !ok || crm.PreviousSecretEnv != "CRM_WEBHOOK_SECRET_OLD" || !slices.Equal(crm.Lines, []string{"+441632960001"}) {
		t.Fatalf("crm = %+v", crm)
	}
	if !crm.Wants("case.opened", "+441632960001") || crm.Wants("case.claimed", "+441632960001") || crm.Wants("case.opened", "+441632960002") {
		t.Errorf("crm's filters: %+v", crm)
	}
	if z, _ := cfg.Webhook("zapier"); !z.Wants("sms.received", "+441632960002") {
		t.Errorf("zapier takes every event: %+v", z)
	}
	env := map[string]string{"CRM_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "ZAPIER_SECRET": "hunter2"}
	var msgs []string
	for _, p := range cfg.WebhookSecretProblems(func(k string) string { return env[k] }) {
		msgs = append(msgs, p.String())
	}
	if got := strings.Join(msgs, "\n"); got != "webhooks[0]: webhook crm: CRM_WEBHOOK_SECRET_OLD is not set\n"+
		"webhooks[1]: webhook zapier: ZAPIER_SECRET must be whsec_ followed by at least 24 base64-encoded bytes" {
		t.Errorf("secret problems:\n%s", got)
	}

	bad := string(base) + `
webhooks:
  - name: crm
    url: http://crm.example.com/hooks
    secret_env: crm-secret
    events: [case.exploded]
    lines: ["+441632960099"]
  - name: crm
    url: https://x.example.com/
  - url: https://y.example.com/
    secret_env: Y
`
	_, err = Parse([]byte(bad))
	for _, want := range []string{
		`webhooks[0].url: "http://crm.example.com/hooks" must be an https URL (http only to localhost)`,
		`webhooks[0].secret_env: "crm-secret" is not an environment variable name`,
		`webhooks[0].events[0]: "case.exploded" is not an event type`,
		`webhooks[0].lines[0]: +441632960099 is not one of the lines`,
		`webhooks[1].name: webhook "crm" is defined twice`,
		`webhooks[1].secret_env: required`,
		`webhooks[2]: a webhook needs a name`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %q:\n%v", want, err)
		}
	}
}

func TestWebhookURLAllowed(t *testing.T) {
	for u, want := range map[string]bool{
		"https://crm.example.com/h": true, "http://127.0.0.1:8080/h": true, "http://localhost/h": true, "http://[::1]:9/h": true,
		"http://crm.example.com/h": false, "ftp://x/": false, "https://user:pw@x.example.com/": false, "/relative": false,
	} {
		if got := WebhookURLAllowed(u); got != want {
			t.Errorf("%s: %v, want %v", u, got, want)
		}
	}
}
