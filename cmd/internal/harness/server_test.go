package harness

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// `ringback serve`, idle, runs its Go code on one processor (its governor,
// internal/procs), and on what GOMAXPROCS says when the operator sets it:
// as its own /metrics reports (go_sched_gomaxprocs_threads).
func TestServeRunsOnOneProcessorUntilBusy(t *testing.T) {
	ctx := context.Background()
	root, err := ModuleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Build(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	procs := func(set string) string {
		t.Helper()
		addr, err := FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		env := slices.DeleteFunc(ServerEnv("RINGBACK_ADDR="+addr, "PUBLIC_URL=https://ringback.example.com",
			"RINGBACK_CONFIG="+filepath.Join(root, "ringback.example.yaml"), "RINGBACK_LOG_LEVEL=warn"),
			func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
		if set != "" {
			env = append(env, "GOMAXPROCS="+set)
		}
		s, err := Start(ctx, bin, t.TempDir(), env, "http://"+addr, nil, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop()
		// The governor sets one processor as it starts, beside the server.
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := gauge(t, s.BaseURL+"/metrics", "go_sched_gomaxprocs_threads")
			if got == "1" || set != "" || time.Now().After(deadline) {
				return got
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := procs(""); got != "1" {
		t.Errorf("idle, GOMAXPROCS unset: %s processors, want 1", got)
	}
	if got := procs("2"); got != "2" {
		t.Errorf("GOMAXPROCS=2: %s processors, want 2 (the operator's)", got)
	}
}

// gauge is the value of an unlabelled metric in a Prometheus scrape.
func gauge(t *testing.T, url, name string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	t.Fatalf("%s: no %s", url, name)
	return ""
}

// The machine's busy time counts every process's, this one's included: a
// fifth of a second spent spinning shows in both.
func TestMachineCPUCountsWhatProcessesSpend(t *testing.T) {
	busy0, cpus, ok := MachineCPU()
	self0, selfOK := ProcessCPU(os.Getpid())
	if !ok || !selfOK || cpus < 1 {
		t.Fatalf("MachineCPU = %v, %d CPUs, %v; ProcessCPU ok %v", busy0, cpus, ok, selfOK)
	}
	for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); {
	}
	busy1, _, _ := MachineCPU()
	self1, _ := ProcessCPU(os.Getpid())
	if spent := self1 - self0; spent < 100*time.Millisecond || busy1-busy0 < spent-20*time.Millisecond {
		t.Errorf("spinning 200 ms: this process spent %v, the machine was busy %v, want both at least 100 ms", spent, busy1-busy0)
	}
}
