package harness

import (
	"bufio"
	"context"
	"net/http"
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
