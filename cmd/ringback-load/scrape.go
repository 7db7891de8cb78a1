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
	metrics, health scrapes
}

// scrapes are one endpoint's: how long each took (failed ones included)
// and how many did not answer 200.
type scrapes struct {
	took   []time.Duration
	failed int
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
				into *scrapes
			}{{"/metrics", &s.metrics}, {"/healthz", &s.health}} {
				t0 := time.Now()
				res, err := hc.Get(base + p.path)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				p.into.took = append(p.into.took, time.Since(t0))
				if err != nil || res.StatusCode != http.StatusOK {
					p.into.failed++
				}
			}
		}
	}()
	return s, func() { cancel(); s.wg.Wait() }
}

func (s *scrapes) summary() harness.Summary { return harness.Summarize(s.took) }
