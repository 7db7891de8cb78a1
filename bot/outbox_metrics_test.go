package bot_test

import (
	"context"
	"maps"
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
		clock := bot.NewManualClock(now)
		rows := bot.OutboxRowsCollector(s, clock)
		reg := prometheus.NewRegistry()
		reg.MustRegister(rows)
		if got := gauges(t, reg, "ringback_outbox_oldest_due_seconds"); len(got) != 0 {
			t.Errorf("before the first count /metrics shows %v, want nothing", got)
		}
		if err := rows.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		byState := map[string]float64{store.OutboxPending: 4, store.OutboxRunning: 0, store.OutboxDead: 0}
		if got := gauges(t, reg, "ringback_outbox_rows"); !maps.Equal(got, byState) {
			t.Errorf("outbox rows by state = %v, want %v", got, byState)
		}
		want := map[string]float64{bot.KindSMS: 90, "chat.card.slack": 3}
		if got := gauges(t, reg, "ringback_outbox_oldest_due_seconds"); !maps.Equal(got, want) {
			t.Errorf("oldest due by kind = %v, want %v", got, want)
		}
		// Between counts a scrape ages what the last one found, and sends
		// nothing to the store: on SQLite's one connection a scrape's
		// queries held up every webhook.
		clock.Advance(10 * time.Second)
		counter := s.CountStatements()
		got := gauges(t, reg, "ringback_outbox_oldest_due_seconds")
		s.StopCounting()
		if n := counter.Total(); n != 0 {
			t.Errorf("a scrape sent %d statements (%q), want none", n, counter.Sequence())
		}
		want = map[string]float64{bot.KindSMS: 100, "chat.card.slack": 13}
		if !maps.Equal(got, want) {
			t.Errorf("10 s later oldest due by kind = %v, want %v", got, want)
		}
	})
}

// gauges are the values of reg's gauge family name by their one label, as
// scraped.
func gauges(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return got
}
