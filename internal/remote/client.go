package remote

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Client is an HTTP client whose every request ends after timeout, body
// included, as http.Client.Timeout would end it, but through the request's
// context. http.Client enforces its Timeout over a RoundTripper it does not
// know (rt wraps the transport to trim answers or rewrite URLs) with a
// goroutine and a timer of its own per request, and a second goroutine
// for Request.Cancel: two goroutines started, woken and ended per card or
// message, and on a small machine each wakes an idle CPU. A context's
// timer starts no goroutine. A redirect followed is a request of its own,
// with its own timeout.
func Client(timeout time.Duration, rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: deadline{next: rt, timeout: timeout}}
}

type deadline struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (d deadline) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), d.timeout)
	resp, err := d.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelingBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelingBody ends its request's context once the body is read to its
// end or closed, so that the timer stops with the exchange.
type cancelingBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.cancel()
	}
	return n, err
}

func (b *cancelingBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
