package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// hub tells the page's event streams that something changed. A signal
// carries no data: the page fetches /sandbox/state, so a burst of changes
// costs one fetch.
type hub struct {
	mu   sync.Mutex
	subs map[chan struct{}]bool
}

func newHub() *hub { return &hub{subs: map[chan struct{}]bool{}} }

// notify never blocks: it runs on the Slack stand-in's request goroutines.
func (h *hub) notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending; one is enough
		}
	}
}

func (h *hub) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = true
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// streamFor bounds one event stream: Ringback's server cuts responses
// after its WriteTimeout (30 s), and EventSource reconnects by itself.
const streamFor = 20 * time.Second

// events is the page's server-sent event stream: "change" after every
// change in the stand-ins or the sandbox.
func (s *Sandbox) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, unsubscribe := s.hub.subscribe()
	defer unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	// The first event makes the page fetch the state it may have missed
	// while it reconnected.
	io.WriteString(w, "retry: 1000\n\nevent: change\ndata: 0\n\n")
	flusher.Flush()
	end := time.NewTimer(streamFor)
	defer end.Stop()
	ping := time.NewTicker(10 * time.Second)
	defer ping.Stop()
	n := 0
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		case <-end.C:
			return
		case <-ping.C:
			io.WriteString(w, ": ping\n\n")
		case <-ch:
			n++
			fmt.Fprintf(w, "event: change\ndata: %d\n\n", n)
		}
		flusher.Flush()
	}
}

// readJSON decodes a small JSON request body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 32<<10))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("sandbox: malformed request: %w", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is a request the sandbox refused, in words for the page.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, status int, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.status
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
