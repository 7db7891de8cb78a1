package discordstandin

import "net/http"

// LoseAnswerNext makes the next n calls of route do their work and then
// drop the connection without answering: the request reached Discord, the
// caller never learns how it went (a timeout, a crash before the answer
// was saved).
func (s *Server) LoseAnswerNext(route string, n int) {
	s.mu.Lock()
	if s.lost == nil {
		s.lost = map[string]int{}
	}
	s.lost[route] += n
	s.mu.Unlock()
}

// loseLocked reports whether this call of route loses its answer.
func (s *Server) loseLocked(route string) bool {
	if s.lost[route] == 0 {
		return false
	}
	s.lost[route]--
	return true
}

// serveLost runs h with its answer thrown away, then drops the connection.
func serveLost(w http.ResponseWriter, r *http.Request, body []byte, h func(http.ResponseWriter, *http.Request, []byte)) {
	h(discard{header: http.Header{}}, r, body)
	hangUp(w)
}

// hangUp closes the connection under w without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // no hijacking (HTTP/2): abort the stream
}

type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
