package slackstandin

import "net/http"

// LoseAnswerNext makes the next n calls of method do their work and then
// drop the connection without answering: the request reached Slack, the
// caller never learns how it went (a timeout, a crash before the answer
// was saved).
func (s *Server) LoseAnswerNext(method string, n int) {
	s.mu.Lock()
	if s.lost == nil {
		s.lost = map[string]int{}
	}
	s.lost[method] += n
	s.mu.Unlock()
}

// loseLocked reports whether this call of method loses its answer.
func (s *Server) loseLocked(method string) bool {
	if s.lost[method] == 0 {
		return false
	}
	s.lost[method]--
	return true
}

// hangUp closes the connection under w without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // no hijacking (HTTP/2): abort the stream
}
