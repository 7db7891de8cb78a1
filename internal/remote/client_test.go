package remote_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ringback/internal/remote"
)

// passThrough is a RoundTripper http.Client does not know, as the chat
// adapters' trimming transports are.
type passThrough struct{ next http.RoundTripper }

func (p passThrough) RoundTrip(r *http.Request) (*http.Response, error) { return p.next.RoundTrip(r) }

// The timeout bounds the whole exchange, as http.Client.Timeout does: an
// answer that does not come, and a body that stops coming, each fail as a
// timeout soon after it; an answer in time is read whole.
func TestClientTimesOutAnswerAndBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/late":
			<-release
		case "/stalls":
			w.Write([]byte("first part "))
			w.(http.Flusher).Flush()
			<-release
		default:
			io.WriteString(w, "in time")
		}
	}))
	defer srv.Close()
	defer close(release)
	c := remote.Client(150*time.Millisecond, passThrough{http.DefaultTransport})

	isTimeout := func(err error) bool {
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, context.DeadlineExceeded)
	}
	start := time.Now()
	_, err := c.Get(srv.URL + "/late")
	if !isTimeout(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("late answer: err %v after %v, want a timeout after 150ms", err, time.Since(start))
	}

	start = time.Now()
	resp, err := c.Get(srv.URL + "/stalls")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !isTimeout(err) || string(body) != "first part " || time.Since(start) > 2*time.Second {
		t.Fatalf("stalled body: read %q, err %v after %v, want the first part then a timeout", body, err, time.Since(start))
	}

	resp, err = c.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "in time" {
		t.Fatalf("answer in time: %q, %v", body, err)
	}
}
