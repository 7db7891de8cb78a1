package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ringback/bot"
	"ringback/config"
	"ringback/store"
	"ringback/store/storetest"
)

func exampleCfg(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The server starts on each store, answers /healthz, and on shutdown stops
// cleanly and releases the leader lease.
func TestServeHealthzAndGracefulShutdown(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		t.Setenv("RINGBACK_SPOOL_DIR", t.TempDir())
		env := config.EnvFrom(func(k string) string {
			switch k {
			case "DATABASE_URL":
				return storetest.URL(t, backend)
			case "RINGBACK_ADDR":
				return "127.0.0.1:0"
			}
			return ""
		})
		a := testApp(os.Getenv, io.Discard)
		ctx, cancel := context.WithCancel(context.Background())
		rt, err := a.start(ctx, env, exampleCfg(t), bot.SystemClock{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + rt.listener.Addr().String()
		res, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `"database":"`+backend+`"`) {
			t.Fatalf("/healthz = %d %s", res.StatusCode, body)
		}
		res, err = http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(metrics), `ringback_outbox_rows{state="dead"} 0`) {
			t.Fatalf("/metrics lacks the outbox gauge:\n%.2000s", metrics)
		}
		cancel() // SIGTERM
		stopsWithin(t, rt.wait, 20*time.Second, "the server")
		if _, err := http.Get(base + "/healthz"); err == nil {
			t.Fatal("still answering after shutdown")
		}
	})
}

func TestCheckListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("business: {name: X, timezone: Europe/Londn, region: GB}\nlines:\n  - {number: \"12\", name: A, channel: C1, hours: {mon-fri: \"9-5\"}}\n"), 0o600)
	var out, errOut bytes.Buffer
	env := map[string]string{"RINGBACK_CONFIG": bad, "SLACK_API_URL": "http://slack.local"}
	code := Run([]string{"check"}, func(k string) string { return env[k] }, &out, &errOut)
	if code == 0 {
		t.Fatal("check passed a broken config")
	}
	for _, want := range []string{
		`SLACK_API_URL: must end with "/"`,
		`business.timezone: "Europe/Londn" is not an IANA time zone`,
		`lines[0].number: "12" is not a phone number`,
		`lines[0].hours.mon-fri: "9-5" is not HH:MM-HH:MM`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errOut.String())
		}
	}

	out.Reset()
	errOut.Reset()
	good := productionEnv(t, map[string]string{"RINGBACK_CONFIG": filepath.Join("..", "testdata", "ringback.yaml")})
	if code := Run([]string{"check"}, func(k string) string { return good[k] }, &out, &errOut); code != 0 {
		t.Fatalf("check on the example failed: %s", errOut.String())
	}
	if !strings.Contains(out.String(), "ok (2 lines") {
		t.Fatalf("check output: %s", out.String())
	}
}

func TestMigrateCommand(t *testing.T) {
	storetest.EachBackend(t, func(t *testing.T, backend string) {
		env := map[string]string{"DATABASE_URL": storetest.URL(t, backend)}
		var out, errOut bytes.Buffer
		if code := Run([]string{"migrate"}, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
			t.Fatalf("migrate: %s", errOut.String())
		}
		if !strings.Contains(out.String(), "schema at version") {
			t.Fatalf("migrate output: %q", out.String())
		}
	})
}

// A replica restarted in its seat (its spool directory) takes back at once
// the outbox rows its dead predecessor left running, under an hour-long
// claim; a row another replica holds keeps its claim.
func TestReplicaRestartedInItsSeatTakesBackItsRows(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RINGBACK_SPOOL_DIR", dir)
	url := storetest.URL(t, "postgres")
	s := storetest.Migrated(t, url)
	ctx := context.Background()
	now := time.Now()
	dead, other := seatOf(dir)+"4242-deadbe", "elsewhere~0a0b0c0d-7-abcdef"
	for _, w := range []string{dead, other} {
		if _, _, err := s.Enqueue(ctx, store.NewOutbox{Kind: "test.left", DedupeKey: "left by " + w, Payload: 1, RunAt: now}, now); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ClaimOutbox(ctx, store.OutboxClaim{Worker: w, Now: now, Lease: time.Hour, Limit: 1}); err != nil || len(got) != 1 {
			t.Fatalf("claim for %s: %v %v", w, got, err)
		}
	}
	env := config.EnvFrom(func(k string) string {
		switch k {
		case "DATABASE_URL":
			return url
		case "RINGBACK_ADDR":
			return "127.0.0.1:0"
		}
		return ""
	})
	a := testApp(os.Getenv, io.Discard)
	rctx, cancel := context.WithCancel(ctx)
	rt, err := a.start(rctx, env, exampleCfg(t), bot.SystemClock{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); stopsWithin(t, rt.wait, 20*time.Second, "the server") }()
	holders := map[string]string{}
	for _, w := range []string{dead, other} {
		it, err := s.OutboxByKey(ctx, "left by "+w)
		if err != nil {
			t.Fatal(err)
		}
		holders[w] = it.State + " " + it.LockedBy
	}
	if holders[dead] == "running "+dead {
		t.Errorf("the dead predecessor's row is still its: %s", holders[dead])
	}
	if holders[other] != "running "+other {
		t.Errorf("another replica's row: %q, want it still running under its claim", holders[other])
	}
}
