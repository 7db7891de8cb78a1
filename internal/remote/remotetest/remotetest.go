// Package remotetest has a remote API's stand-in count the connections its
// clients open, for tests of the clients' connection reuse.
package remotetest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server serves h, answering each request after delay (so that requests
// overlap as they do against a real remote), and counts the connections
// clients open to it.
func Server(t testing.TB, delay time.Duration, h http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		h.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &opened
}

// Waves runs call concurrently n times, waits for all, and does that waves
// times, as an outbox lane does under steady load.
func Waves(t testing.TB, waves, n int, call func() error) {
	t.Helper()
	for range waves {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() { errs <- call() })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// A connection goes back to its client's idle pool just after
		// the answer's body is read.
		time.Sleep(20 * time.Millisecond)
	}
}

// GoroutinesPerCall is how many goroutines, in this whole process, each of
// n calls of call started, after one call that opens the connection. The
// stand-in's side counts too: a reused HTTP/1.1 connection starts one per
// request (the server's read-ahead for a closed client).
// The count is the whole process's: a test using it must not run beside
// parallel tests.
func GoroutinesPerCall(t testing.TB, n int, call func() error) float64 {
	t.Helper()
	if err := call(); err != nil {
		t.Fatal(err)
	}
	created := func() uint64 {
		s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := created()
	for range n {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	return float64(created()-before) / float64(n)
}
