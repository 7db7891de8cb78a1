package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The page and its API answer only a browser on this machine: another Host
// (DNS rebinding) or a POST from another origin is refused and changes
// nothing; the page itself, opened as 127.0.0.1 or localhost, works.
func TestSandboxAnswersOnlyThisMachine(t *testing.T) {
	s, ts := serveSandbox(t)
	do := func(method, path, host, origin string) int {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(`{"advance":"2h"}`))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	port := ts.URL[strings.LastIndex(ts.URL, ":"):]
	before := s.opt.Clock.Now()
	for _, tc := range []struct {
		method, path, host, origin string
		want                       int
	}{
		{"GET", "/", "evil.example" + port, "", http.StatusForbidden},
		{"GET", "/sandbox/state", "rebind.evil.example", "", http.StatusForbidden},
		{"POST", "/sandbox/api/clock", "", "http://evil.example", http.StatusForbidden},
		{"POST", "/sandbox/api/clock", "evil.example" + port, "http://evil.example", http.StatusForbidden},
		{"GET", "/", "", "", http.StatusOK},
		{"GET", "/", "localhost" + port, "", http.StatusOK},
	} {
		if got := do(tc.method, tc.path, tc.host, tc.origin); got != tc.want {
			t.Errorf("%s %s Host %q Origin %q: %d, want %d", tc.method, tc.path, tc.host, tc.origin, got, tc.want)
		}
	}
	if moved := s.opt.Clock.Now().Sub(before); moved >= time.Hour {
		t.Errorf("refused requests moved the demo clock by %s", moved)
	}
	if got := do("POST", "/sandbox/api/clock", "", "http://localhost"+port); got == http.StatusForbidden {
		t.Errorf("the page's own POST was refused")
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true,
		":8080": false, "0.0.0.0:8080": false, "192.168.1.5:8080": false, "example.com:80": false,
	} {
		if got := IsLoopbackAddr(addr); got != want {
			t.Errorf("IsLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}
