package sandbox

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// loopbackOnly serves the page and its API only to a browser on this
// machine: a Host that is not loopback (DNS rebinding: evil.example
// resolving to 127.0.0.1) and a POST from another origin (any web page the
// person has open) are refused, since the API acts as staff and as callers.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "sandbox: only for this machine: open it as http://127.0.0.1 or http://localhost", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !sameMachineOrigin(r) {
			http.Error(w, "sandbox: cross-origin request refused", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameMachineOrigin reports whether a state-changing request comes from a
// page on this machine. Browsers send Origin on every cross-origin POST; a
// request without one (curl, a test) is not a browser page's.
func sameMachineOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && loopbackHost(u.Host)
}

// IsLoopbackAddr reports whether a listen address only takes connections
// from this machine (the demo warns when it does not).
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false // ":8080" listens on every interface
	}
	return loopbackHost(host)
}
