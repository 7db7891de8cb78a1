package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

func TestOutboxCommandListsDeadRows(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			url := storetest.URL(t, backend)
			ctx := context.Background()
			s, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			s.Migrate(ctx)
			now := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
			s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "textback:7", Payload: 1, MaxAttempts: 1}, now)
			claimed, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: now, Lease: time.Minute, Limit: 10})
			for _, it := range claimed {
				s.KillOutbox(ctx, it, now, "sms: twilio 21211: Invalid 'To' Phone Number")
			}
			s.Close()

			var out, errOut bytes.Buffer
			env := map[string]string{"DATABASE_URL": url}
			if code := Run([]string{"outbox"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
				t.Fatalf("outbox: %s", errOut.String())
			}
			for _, want := range []string{"0 pending, 0 running, 0 done, 1 dead", "sms.send", "1/1", "21211: Invalid 'To' Phone Number"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if code := Run([]string{"outbox", "--state", "lost"}, func(k string) string { return env[k] }, &out, &errOut); code == 0 {
				t.Fatal("an unknown state was accepted")
			}
			out.Reset()
			if code := Run([]string{"outbox", "retry"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 || !strings.Contains(out.String(), "requeued 1 dead row") {
				t.Fatalf("retry: %d %s %s", code, out.String(), errOut.String())
			}
			s, _ = store.Open(ctx, url)
			defer s.Close()
			it, _ := s.OutboxByKey(ctx, "textback:7")
			if it.State != store.OutboxPending || it.Attempts != 0 {
				t.Fatalf("after retry: %s after %d attempts", it.State, it.Attempts)
			}
		})
	}
}
