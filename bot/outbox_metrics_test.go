package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// /metrics tells how long side effects have waited: the oldest due row of
// each kind, from when it became due; a row scheduled for later is not
// waiting.
func TestOutboxMetricsShowTheOldestDueRowByKind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
		for _, r := range []struct {
			kind, key string
			runAt     time.Time
		}{
			{bot.KindSMS, "text-1", now.Add(-90 * time.Second)},
			{bot.KindSMS, "text-2", now.Add(-10 * time.Second)},
			{"chat.card.slack", "card-1", now.Add(-3 * time.Second)},
			{"chat.thread.slack", "later", now.Add(time.Hour)},
		} {
			if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: r.kind, DedupeKey: r.key, Payload: 1, RunAt: r.runAt}, now.Add(-2*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(bot.OutboxRowsCollector(s, bot.NewManualClock(now)))
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range fams {
			if f.GetName() != "ringback_outbox_oldest_due_seconds" {
				continue
			}
			for _, m := range f.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		want := map[string]float64{bot.KindSMS: 90, "chat.card.slack": 3}
		if len(got) != len(want) || got[bot.KindSMS] != 90 || got["chat.card.slack"] != 3 {
			t.Errorf("oldest due by kind = %v, want %v", got, want)
		}
	})
}
