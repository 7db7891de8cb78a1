package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"ringback/cmd/internal/harness"
)

// scraper times GET /metrics and GET /healthz every interval while the
// load runs, as a monitoring system would.
type scraper struct {
	wg              sync.WaitGroup
	metrics, health []time.Duration
	failed          int // answers other than 200, or none
}

func startScraper(ctx context.Context, base string, interval time.Duration) (*scraper, func()) {
	s := &scraper{}
	ctx, cancel := context.WithCancel(ctx)
	if interval <= 0 {
		return s, cancel
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, p := range []struct {
				path string
				into *[]time.Duration
			}{{"/metrics", &s.metrics}, {"/healthz", &s.health}} {
				t0 := time.Now()
				res, err := hc.Get(base + p.path)
				if err != nil {
					s.failed++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					s.failed++
					continue
				}
				*p.into = append(*p.into, time.Since(t0))
			}
		}
	}()
	return s, func() { cancel(); s.wg.Wait() }
}

func (s *scraper) summaries() (metrics, health harness.Summary) {
	return harness.Summarize(s.metrics), harness.Summarize(s.health)
}
