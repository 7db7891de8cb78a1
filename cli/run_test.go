package cli

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// runCLI runs `ringback ARGS` with the example config, the database at
// databaseURL and the extra environment in env (which may be nil).
func runCLI(tb testing.TB, databaseURL string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	getenv := func(k string) string {
		switch k {
		case "DATABASE_URL":
			return databaseURL
		case "RINGBACK_CONFIG":
			return filepath.Join("..", "testdata", "ringback.yaml")
		}
		return env[k]
	}
	// Synchronized: a store's background goroutine may still log after Run.
	var out, errOut syncBuffer
	code = Run(args, getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// testApp is the app of a command run in-process, logging to logs.
func testApp(getenv func(string) string, logs io.Writer) *app {
	return &app{getenv: getenv, stdout: io.Discard, stderr: logs, log: slog.New(slog.NewTextHandler(logs, nil))}
}

// stopsWithin waits for wait (a server's or the demo's) to return, and
// fails t if it returns an error or takes longer than d.
func stopsWithin(t testing.TB, wait func() error, d time.Duration, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s stopped with %v", what, err)
		}
	case <-time.After(d):
		t.Errorf("%s did not stop within %s", what, d)
	}
}
