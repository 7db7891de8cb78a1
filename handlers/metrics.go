package handlers

import (
	"context"
	"net/http"
)

// requestNote is what a request's handlers tell the server's metrics: set
// in ServeHTTP's context, read when the request is answered.
type requestNote struct {
	signature string // the source whose signature check refused the request
}

type noteKey struct{}

// signatureRefused notes that r was refused for its signature (missing,
// wrong, stale or replayed), counted under source.
func signatureRefused(r *http.Request, source string) {
	if n, ok := r.Context().Value(noteKey{}).(*requestNote); ok {
		n.signature = source
	}
}

func withNote(r *http.Request) (*http.Request, *requestNote) {
	n := &requestNote{}
	return r.WithContext(context.WithValue(r.Context(), noteKey{}, n)), n
}

// routePatterns are the table's patterns by method and path, for requests
// the mux did not route itself (the spool serves a copy of the request).
var routePatterns = func() map[string]string {
	m := map[string]string{}
	for _, r := range routes {
		m[r.pattern] = r.pattern
	}
	return m
}()

// routeOf names the route a request took, from a bounded set: its pattern,
// or "unmatched".
func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	if p, ok := routePatterns[r.Method+" "+r.URL.Path]; ok {
		return p
	}
	return "unmatched"
}
