package bot_test

import (
	"context"
	"testing"
	"time"

	"ringback/config"
	"ringback/store"
)

// The leader's timers prune done outbox rows once they are older than the
// retention; rows still to run and dead rows stay.
func TestTimersPruneDoneOutboxRows(t *testing.T) {
	eachChat(t, func(t *testing.T, x *chatSetup) {
		s := x.store
		ctx := context.Background()
		x.missed(t, "CA1", callerNum)
		x.flush(t)
		tick(t, x.bot)
		before, err := s.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if before[store.OutboxDone] == 0 {
			t.Fatal("the missed call left no done row")
		}
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "sms.send", DedupeKey: "later", Payload: 1, RunAt: x.clock.Now().Add(30 * 24 * time.Hour)}, x.clock.Now()); err != nil {
			t.Fatal(err)
		}
		x.clock.Advance(config.DefaultOutboxRetention - time.Hour)
		tick(t, x.bot)
		if c, _ := s.OutboxCounts(ctx); c[store.OutboxDone] != before[store.OutboxDone] {
			t.Fatalf("done rows = %d within the retention, want all %d kept", c[store.OutboxDone], before[store.OutboxDone])
		}
		x.clock.Advance(2 * time.Hour)
		tick(t, x.bot)
		after, err := s.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after[store.OutboxDone] != 0 {
			t.Fatalf("after the retention: %v, want no done row", after)
		}
		if it, err := s.OutboxByKey(ctx, "later"); err != nil || it.State != store.OutboxPending {
			t.Fatalf("the row still to run: %+v %v, want it kept", it, err)
		}
	})
}
