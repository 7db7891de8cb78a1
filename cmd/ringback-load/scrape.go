package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"ringback/cmd/internal/harness"
)

// scraper times GET /metrics and GET /healthz every interval while the
// load runs, as a monitoring system would.
type scraper struct {
	wg              sync.WaitGroup
	metrics, health scrapes
	// waits are the server's waits for a database connection, as the
	// first and the last scrape answered 200 read them.
	firstWaits, lastWaits connWaits
	firstAt, lastAt       time.Time
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
				var body []byte
				if err == nil {
					body, err = io.ReadAll(res.Body)
					res.Body.Close()
				}
				p.into.took = append(p.into.took, time.Since(t0))
				if err == nil && res.StatusCode == http.StatusOK && p.into == &s.metrics {
					if w, werr := parseConnWaits(string(body)); werr == nil {
						if s.firstWaits == nil {
							s.firstWaits, s.firstAt = w, t0
						}
						s.lastWaits, s.lastAt = w, t0
					}
				}
				if err != nil || res.StatusCode != http.StatusOK {
					p.into.failed++
				}
			}
		}
	}()
	return s, func() { cancel(); s.wg.Wait() }
}

func (s *scrapes) summary() harness.Summary { return harness.Summarize(s.took) }

// connWaits are a server's waits for a database connection so far, by
// class (ringback_connection_waits_total, …_wait_seconds_total), and how
// long the class held one (…_held_seconds_total).
type connWaits map[string]connWait

// connWait is one class's: how many waits, how long in all, and how long
// it held connections.
type connWait struct {
	Waits   float64 `json:"waits"`
	Seconds float64 `json:"seconds"`
	Held    float64 `json:"held_seconds"`
}

// parseConnWaits reads them from a /metrics answer.
func parseConnWaits(text string) (connWaits, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	w := connWaits{}
	for name, into := range map[string]func(*connWait, float64){
		"ringback_connection_waits_total":        func(c *connWait, v float64) { c.Waits = v },
		"ringback_connection_wait_seconds_total": func(c *connWait, v float64) { c.Seconds = v },
		"ringback_connection_held_seconds_total": func(c *connWait, v float64) { c.Held = v },
	} {
		f := fams[name]
		if f == nil {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "class" {
					c := w[l.GetValue()]
					into(&c, m.GetCounter().GetValue())
					w[l.GetValue()] = c
				}
			}
		}
	}
	return w, nil
}

// classWaits is one class's waits for a connection between two scrapes,
// and how long it held one.
type classWaits struct {
	Class string `json:"class"`
	connWait
}

// waitsBetween is, per class, what the waits grew by from a to b, in the
// order the server serves the classes; nil when either is unknown.
func waitsBetween(a, b connWaits) []classWaits {
	if a == nil || b == nil {
		return nil
	}
	var out []classWaits
	for class, w := range b {
		was := a[class]
		out = append(out, classWaits{class, connWait{Waits: w.Waits - was.Waits, Seconds: w.Seconds - was.Seconds, Held: w.Held - was.Held}})
	}
	order := []string{"foreground", "texts", "background"}
	rank := func(class string) int { // a class the server adds goes last
		if i := slices.Index(order, class); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(out, func(x, y classWaits) int {
		return cmp.Or(cmp.Compare(rank(x.Class), rank(y.Class)), strings.Compare(x.Class, y.Class))
	})
	return out
}
