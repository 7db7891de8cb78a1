package bot_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
	"ringback/store/storetest"
)

// BenchmarkOutbox commits rows one transaction each, as webhooks do, while a
// running worker performs them; it reports throughput and the commit → start
// latency (p50, p99) that a text-back or card waits before it is sent.
func BenchmarkOutbox(b *testing.B) {
	storetest.EachBackend(b, func(b *testing.B, backend string) {
		s := storetest.New(b, backend)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		committed := map[string]time.Time{}
		var lat []time.Duration
		all := make(chan struct{})
		w := bot.NewWorker(s, bot.SystemClock{}, "bench", quiet)
		w.OnStart = func(it store.OutboxItem, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, at.Sub(committed[it.DedupeKey]))
			if len(lat) == b.N {
				close(all)
			}
		}
		w.Handle("bench", func(context.Context, store.OutboxItem) error { return nil })
		go w.Run(ctx)
		time.Sleep(20 * time.Millisecond)
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			key := fmt.Sprintf("bench-%d", i)
			err := s.InTx(ctx, func(tx *store.Tx) error {
				_, _, err := tx.Enqueue(ctx, store.NewOutbox{Kind: "bench", DedupeKey: key, Payload: i}, time.Now())
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			committed[key] = time.Now()
			mu.Unlock()
		}
		select {
		case <-all:
		case <-time.After(time.Minute):
			b.Fatal("rows not all performed")
		}
		elapsed := time.Since(start)
		b.StopTimer()
		mu.Lock()
		slices.Sort(lat)
		p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(p(0.5), "p50-ms")
		b.ReportMetric(p(0.99), "p99-ms")
		mu.Unlock()
	})
}
