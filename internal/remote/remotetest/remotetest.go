// Package remotetest has a remote API's stand-in count the connections its
// clients open, for tests of the clients' connection reuse.
package remotetest

import (
	"net"
	"net/http"
	"net/http/httptest"
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
