package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"ringback/store"
	"ringback/store/storetest"
)

func TestOutboxCommandListsDeadRows(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := storetest.Migrated(t, url)
		now := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
		s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "textback:7", Payload: 1, MaxAttempts: 1}, now)
		claimed, _ := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: "w", Now: now, Lease: time.Minute, Limit: 10})
		for _, it := range claimed {
			s.KillOutbox(ctx, it, now, "sms: twilio 21211: Invalid 'To' Phone Number")
		}

		code, out, errOut := runCLI(t, url, nil, "outbox")
		if code != 0 {
			t.Fatalf("outbox: %s", errOut)
		}
		for _, want := range []string{"0 pending, 0 running, 0 done, 1 dead", "sms.send", "1/1", "21211: Invalid 'To' Phone Number"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if code, _, _ := runCLI(t, url, nil, "outbox", "--state", "lost"); code == 0 {
			t.Fatal("an unknown state was accepted")
		}
		if code, out, errOut := runCLI(t, url, nil, "outbox", "retry"); code != 0 || !strings.Contains(out, "requeued 1 dead row") {
			t.Fatalf("retry: %d %s %s", code, out, errOut)
		}
		it, err := s.OutboxByKey(ctx, "textback:7")
		if err != nil {
			t.Fatal(err)
		}
		if it.State != store.OutboxPending || it.Attempts != 0 {
			t.Fatalf("after retry: %s after %d attempts", it.State, it.Attempts)
		}
	})
}
