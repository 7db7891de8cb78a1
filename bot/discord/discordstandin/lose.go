package discordstandin

import "net/http"

// LoseAnswerNext scripts the next n calls of route to be carried out with
// their answer dropped, the connection closed: the request reached
// Discord and the caller cannot tell (a timeout, or a crash before the
// answer was saved).
func (s *Server) LoseAnswerNext(route string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failures[route] = append(s.failures[route], failure{lose: true})
	}
}

// hangUp drops the connection under w, answering nothing.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 cannot be hijacked: abort the stream
	}
	_ = conn.Close()
}

// discard is where a lost answer goes.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
