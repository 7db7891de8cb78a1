package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"ringback/cmd/internal/harness"
)

// replica is one `ringback serve` slot: a fixed address, and the process
// running there now (nil while it is down).
type replica struct {
	n    int
	addr string
	dir  string // its working directory: its own disk, as on its own machine
	env  []string
	proc *harness.Server
	log  *harness.TailBuffer // every incarnation's output, for the report
	// numbers are the phone numbers every incarnation's output spelt out.
	numbers *numberScan
}

// replicas runs and supervises the ringback processes: whatever ends one
// (a kill of ours, or a crash) is followed by a restart, as a process
// supervisor would, until stop.
type replicas struct {
	bin   string
	logTo io.Writer // -v: the servers' output, live
	say   func(format string, args ...any)

	mu       sync.Mutex
	slots    []*replica
	stopping bool
	kills    int
	crashes  int // exits nobody asked for
	restarts int
	failed   int // restart attempts that did not come up healthy
	wg       sync.WaitGroup
}

// restartDelay is how long a supervisor waits before starting a replica
// again (systemd's RestartSec is of this order).
const restartDelay = 500 * time.Millisecond

func (rs *replicas) add(ctx context.Context, addr, dir string, env []string) error {
	r := &replica{n: len(rs.slots), addr: addr, dir: dir, env: env, log: &harness.TailBuffer{Max: 256 << 10}, numbers: &numberScan{}}
	p, err := rs.spawn(ctx, r)
	if err != nil {
		return err
	}
	rs.mu.Lock()
	r.proc = p
	rs.slots = append(rs.slots, r)
	rs.mu.Unlock()
	rs.supervise(ctx, r, p)
	return nil
}

func (rs *replicas) spawn(ctx context.Context, r *replica) (*harness.Server, error) {
	out := io.MultiWriter(r.log, r.numbers)
	if rs.logTo != nil {
		out = io.MultiWriter(r.log, r.numbers, prefixWriter{w: rs.logTo, prefix: fmt.Sprintf("[replica %d] ", r.n)})
	}
	p, err := harness.Start(ctx, rs.bin, r.dir, r.env, "http://"+r.addr, out, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("chaos: replica %d: %w", r.n, err)
	}
	return p, nil
}

// supervise restarts r whenever p ends, until stop. Attempts are bounded:
// a replica that cannot come back in a minute stays down (and the report
// says so).
func (rs *replicas) supervise(ctx context.Context, r *replica, p *harness.Server) {
	rs.wg.Add(1)
	go func() {
		defer rs.wg.Done()
		for {
			<-p.Exited()
			rs.mu.Lock()
			if rs.stopping {
				rs.mu.Unlock()
				return
			}
			if r.proc == p { // not a kill of ours
				rs.crashes++
				rs.say("replica %d exited by itself: %v\n%s", r.n, p.Cmd.ProcessState, harness.LastLines(r.log.String(), 5))
			}
			r.proc = nil
			rs.mu.Unlock()
			var next *harness.Server
			for try := 0; next == nil && try < 60; try++ {
				if !sleepCtx(ctx, restartDelay) {
					return
				}
				rs.mu.Lock()
				stopping := rs.stopping
				rs.mu.Unlock()
				if stopping {
					return
				}
				np, err := rs.spawn(ctx, r)
				if err != nil {
					rs.mu.Lock()
					rs.failed++
					rs.mu.Unlock()
					if try == 0 {
						rs.say("replica %d did not come back (trying again for a minute): %v", r.n, err)
					}
					continue
				}
				next = np
			}
			if next == nil {
				return
			}
			rs.mu.Lock()
			if rs.stopping {
				rs.mu.Unlock()
				_ = next.Stop()
				return
			}
			r.proc = next
			rs.restarts++
			rs.mu.Unlock()
			p = next
		}
	}()
}

// killOne SIGKILLs a random running replica; the supervisor restarts it.
func (rs *replicas) killOne(rng *rand.Rand) (int, bool) {
	rs.mu.Lock()
	var up []*replica
	for _, r := range rs.slots {
		if r.proc != nil {
			up = append(up, r)
		}
	}
	if len(up) == 0 {
		rs.mu.Unlock()
		return -1, false
	}
	r := up[rng.IntN(len(up))]
	p := r.proc
	r.proc = nil // marks the exit as ours
	rs.kills++
	rs.mu.Unlock()
	_ = p.Kill()
	return r.n, true
}

// urls are the replicas' base URLs, down or not: a webhook sender picks one
// and finds out.
func (rs *replicas) urls() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := make([]string, len(rs.slots))
	for i, r := range rs.slots {
		out[i] = "http://" + r.addr
	}
	return out
}

// stop ends supervision and drains every running replica (SIGTERM, then
// SIGKILL after 30 s), in parallel.
func (rs *replicas) stop() {
	rs.mu.Lock()
	rs.stopping = true
	var procs []*harness.Server
	for _, r := range rs.slots {
		if r.proc != nil {
			procs = append(procs, r.proc)
		}
	}
	rs.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.Stop() }()
	}
	wg.Wait()
	rs.wg.Wait()
}

// prefixWriter prefixes each write (a server writes whole log lines).
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// loggedNumbers are the phone numbers the replicas' output spelt out, each
// with the first line naming it.
func (rs *replicas) loggedNumbers() map[string]string {
	rs.mu.Lock()
	slots := slices.Clone(rs.slots)
	rs.mu.Unlock()
	out := map[string]string{}
	for _, r := range slots {
		r.numbers.named(out)
	}
	return out
}
