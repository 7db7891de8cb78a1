// Package remote holds what Ringback's clients of remote APIs (Twilio,
// Slack, Discord) share.
package remote

import "net/http"

// Transport is an HTTP transport for one remote API that keeps as many
// idle connections to it as were in use at once. The outbox runs up to a
// lane's concurrency (64 by default) requests to a remote at a time;
// http.DefaultTransport keeps 2 idle connections per host, so every
// request past the second opened a new TCP and TLS connection and closed
// it after: a handshake per card or text, and its round trips, at any load
// past a trickle. Idle connections never outnumber the peak in flight and
// close after IdleConnTimeout (90 s), so the limit costs nothing when idle.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = maxIdlePerHost
	return t
}

// maxIdlePerHost is above any lane's configured concurrency in practice.
const maxIdlePerHost = 512
