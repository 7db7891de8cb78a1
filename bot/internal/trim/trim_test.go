package trim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A successful answer is cut as the request's cut says; a failed one, one
// no cut is named for and one too large to hold pass whole.
func TestTransportCutsOnlyWhatItShould(t *testing.T) {
	big := strings.Repeat("x", maxTrimmed+10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "echo: slow down")
		case "/big":
			io.WriteString(w, "echo: "+big)
		default:
			io.WriteString(w, "echo: hello")
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: Transport{Next: http.DefaultTransport, For: func(r *http.Request) func([]byte) ([]byte, bool) {
		if r.URL.Path == "/other" {
			return nil
		}
		return func(b []byte) ([]byte, bool) { return bytes.TrimPrefix(b, []byte("echo: ")), true }
	}}}
	for path, want := range map[string]string{"/cut": "hello", "/other": "echo: hello", "/fail": "echo: slow down", "/big": "echo: " + big} {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != want {
			t.Errorf("%s: %d bytes %q…, want %d bytes %q…", path, len(got), head(got), len(want), head([]byte(want)))
		}
		if path == "/cut" && resp.ContentLength != int64(len(want)) {
			t.Errorf("%s: Content-Length %d, want %d", path, resp.ContentLength, len(want))
		}
	}
}

func head(b []byte) string { return string(b[:min(len(b), 20)]) }
