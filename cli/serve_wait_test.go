package cli

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"ringback/bot"
	"ringback/config"
)

// serve started before its database exists waits for it instead of
// exiting, says so on /healthz, and starts once the database is there.
func TestServeWaitsForTheDatabase(t *testing.T) {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("needs PostgreSQL (TEST_DATABASE_URL)")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	name := "rb_wait_" + hex.EncodeToString(rb[:])
	u, _ := url.Parse(base)
	u.Path = "/" + name
	t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("RINGBACK_SPOOL_DIR", t.TempDir())
	env := config.EnvFrom(func(k string) string {
		switch k {
		case "DATABASE_URL":
			return u.String()
		case "RINGBACK_ADDR":
			return addr
		}
		return ""
	})
	a := testApp(os.Getenv, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *runtime, 1)
	failed := make(chan error, 1)
	go func() {
		rt, err := a.start(ctx, env, exampleCfg(t), bot.SystemClock{}, nil)
		if err != nil {
			failed <- err
			return
		}
		started <- rt
	}()

	get := func(path string) (int, string) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	deadline := time.Now().Add(5 * time.Second)
	code, body := get("/healthz")
	for code == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		code, body = get("/healthz")
	}
	// Alive, so not restarted; not ready, so sent no traffic.
	if code != http.StatusOK || !strings.Contains(body, `"database":"waiting"`) {
		t.Fatalf("/healthz while waiting = %d %s", code, body)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"waiting"`) {
		t.Fatalf("/readyz while waiting = %d %s", code, body)
	}
	select {
	case err := <-failed:
		t.Fatalf("serve exited instead of waiting: %v", err)
	case <-started:
		t.Fatal("serve started without its database")
	default:
	}

	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	var rt *runtime
	select {
	case err := <-failed:
		t.Fatalf("serve failed after the database came: %v", err)
	case rt = <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start once the database was there")
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"spool_depth":0`) {
		t.Fatalf("/healthz once started = %d %s", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"status":"ready"`) {
		t.Fatalf("/readyz once started = %d %s", code, body)
	}
	cancel()
	if err := rt.wait(); err != nil {
		t.Fatal(err)
	}
}

// A replica waiting for its database retries within a second for the
// first minute, so one started during a PostgreSQL restart (a few
// seconds) comes up within a second of it, then backs off to 30 s.
func TestStoreWaitsBackOff(t *testing.T) {
	wait, waited := storeWaitFirst, time.Duration(0)
	var first []time.Duration
	for waited < 3*time.Second {
		first = append(first, wait)
		waited += wait
		wait = nextStoreWait(wait, waited)
	}
	if len(first) < 4 || first[0] > 250*time.Millisecond || first[len(first)-1] > time.Second {
		t.Errorf("waits over a 3 s restart %v: want a first retry by 250 ms and none over a second", first)
	}
	for waited < 5*time.Minute {
		waited += wait
		wait = nextStoreWait(wait, waited)
	}
	if wait != 30*time.Second {
		t.Errorf("after five minutes the wait is %s, want 30 s", wait)
	}
}
