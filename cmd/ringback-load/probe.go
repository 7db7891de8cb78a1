package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"ringback/cmd/internal/harness"
)

// probeEvery is how often the commit probe commits beside the load.
const probeEvery = 20 * time.Millisecond

// A commitProbe measures what making a write durable costs on the run's
// disk while the load runs, so that a run's tail can be told apart from
// the machine's: on this project's virtual machines an fsync now and then
// takes 100 ms or more, and every PostgreSQL commit waiting for the WAL
// waits with it, whoever made it (seen: every backend waiting on the
// WALWrite lock behind one in WALSync). It writes a page to a file in the
// run's folder, on the disk the stores write to (the private cluster's
// folder and the SQLite file), and fsyncs it. A commit of its own on the
// server would see the same, but its WAL flushes would count among the
// run's.
type commitProbe struct {
	what   string
	commit func(ctx context.Context) error
	close  func()

	mu       sync.Mutex
	samples  []time.Duration
	failed   int
	stop     context.CancelFunc
	done     chan struct{}
	finished sync.Once
}

// startProbe starts probing the disk of dir.
func startProbe(ctx context.Context, dir string) (*commitProbe, error) {
	p, err := fileProbe(dir)
	if err != nil {
		return nil, err
	}
	p.start(ctx)
	return p, nil
}

func (p *commitProbe) start(ctx context.Context) {
	pctx, cancel := context.WithCancel(ctx)
	p.stop, p.done = cancel, make(chan struct{})
	go p.run(pctx)
}

func (p *commitProbe) run(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		err := p.commit(ctx)
		took := time.Since(start)
		if ctx.Err() != nil {
			return // cut short by the stop: not a sample
		}
		p.mu.Lock()
		if err != nil {
			p.failed++
		} else {
			p.samples = append(p.samples, took)
		}
		p.mu.Unlock()
	}
}

// finish stops the probe and summarises its commits.
// It may be called again: the probe stops once.
func (p *commitProbe) finish() (summary, int) {
	p.finished.Do(func() {
		p.stop()
		<-p.done
		p.close()
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	return harness.Summarize(p.samples), p.failed
}

// fileProbe writes and syncs a page of a file in dir.
func fileProbe(dir string) (*commitProbe, error) {
	f, err := os.OpenFile(filepath.Join(dir, "commit-probe"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("commit probe: %w", err)
	}
	page := make([]byte, 4096)
	var n uint64
	return &commitProbe{
		what: "a 4 kB page written and fsync'd in the run's folder",
		commit: func(context.Context) error {
			n++
			page[0] = byte(n)
			if _, err := f.WriteAt(page, int64(n%64)*4096); err != nil {
				return err
			}
			return f.Sync()
		},
		close: func() { f.Close() },
	}, nil
}
