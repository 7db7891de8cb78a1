package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"ringback/config"
	"ringback/store"
	"ringback/store/storetest"
)

func TestWebhooksCommandListsSubscriptionsDeliveriesAndFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
		cfg := &config.Config{Webhooks: []config.Webhook{
			{Name: "crm", URL: "https://crm.example.com/h", SecretEnv: "CRM"},
			{Name: "zap", URL: "https://zap.example.com/h", SecretEnv: "ZAP", Events: []string{"case.closed"}},
		}}
		ok, _ := s.AddWebhookDelivery(ctx, store.WebhookDelivery{Subscription: "crm", MessageID: "evt_1", Type: "case.opened"}, now)
		bad, _ := s.AddWebhookDelivery(ctx, store.WebhookDelivery{Subscription: "zap", MessageID: "evt_2", Type: "case.closed"}, now)
		s.SettleWebhookDelivery(ctx, ok, store.WebhookDelivered, 204, "", now)
		s.SettleWebhookDelivery(ctx, bad, store.WebhookFailed, 410, "410 Gone: subscription disabled", now)
		s.DisableWebhookSubscription(ctx, "zap", "endpoint answered 410 Gone", now)

		var out bytes.Buffer
		if err := listWebhooks(ctx, &out, s, cfg, 10); err != nil {
			t.Fatal(err)
		}
		text := out.String()
		failures := text[strings.Index(text, "FAILURES"):]
		lines := map[string]bool{}
		for _, l := range strings.Split(text, "\n") {
			lines[strings.Join(strings.Fields(l), " ")] = true
		}
		if !lines["crm https://crm.example.com/h all all enabled"] {
			t.Errorf("no enabled crm line:\n%s", text)
		}
		for _, want := range []string{"DISABLED 2026-11-16 10:00:00 (endpoint answered 410 Gone): ringback webhooks enable zap", "evt_1"} {
			if !strings.Contains(text, want) {
				t.Errorf("output lacks %q:\n%s", want, text)
			}
		}
		if !strings.Contains(failures, "evt_2") || strings.Contains(failures, "evt_1") {
			t.Errorf("failures:\n%s", failures)
		}
		out.Reset()
		if err := enableWebhook(ctx, &out, s, cfg, "zap"); err != nil || !strings.Contains(out.String(), "zap enabled") {
			t.Fatalf("enable: %v %s", err, out.String())
		}
		if states, _ := s.WebhookSubscriptionStates(ctx); states["zap"].DisabledAt != nil {
			t.Fatal("still disabled")
		}
		if err := enableWebhook(ctx, &out, s, cfg, "nope"); err == nil {
			t.Fatal("enabled an unknown subscription")
		}
	})
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h": now.Add(-24 * time.Hour), "2026-11-15": time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC),
		"2026-11-15T08:30:00Z": time.Date(2026, 11, 15, 8, 30, 0, 0, time.UTC),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	for _, in := range []string{"", "yesterday", "-3h"} {
		if _, err := parseSince(in, now); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
