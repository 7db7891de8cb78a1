package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// In production no page may frame the picker, and its link goes to no
// other site; yet the page's own form must carry its origin, which a
// browser sends as "null" under Referrer-Policy: no-referrer.
func TestCallbackPickerHeaders(t *testing.T) {
	h, _ := pickerHarness(t, "sqlite")
	token := h.linkFor("CA"+strings.Repeat("0", 31)+"1", "+447700900123")
	res, err := http.Get(h.server.URL + "/c/" + token)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q: want frame-ancestors 'none'", csp)
	}
	if rp := res.Header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Errorf("Referrer-Policy %q: want same-origin", rp)
	}
}
