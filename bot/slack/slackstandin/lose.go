package slackstandin

import "net/http"

// LoseAnswerNext makes the next n calls of method do their work and then
// hang up without answering: the request reached Slack, the caller never
// learns how it went (a timeout, a crash before the answer was saved).
func (s *Server) LoseAnswerNext(method string, n int) {
	s.mu.Lock()
	for range n {
		s.failures[method] = append(s.failures[method], failure{lose: true})
	}
	s.mu.Unlock()
}

// hangUp closes the connection under w without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // no hijacking (HTTP/2): abort the stream
}
