package sms_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"ringback/sms/twiliostandin"
)

// listCheck is the shared part of a list endpoint's conformance test: the
// query parameters the spec documents for it, its page schema, and a
// recorder in front of the stand-in that keeps every query the client sends.
type listCheck struct {
	s          *spec
	path       string
	srv        *twiliostandin.Server
	documented map[string]bool
	page       *schema
	recorder   *httptest.Server

	mu      sync.Mutex
	queries []url.Values
}

func newListCheck(t *testing.T, path string) *listCheck {
	t.Helper()
	s := loadSpec(t)
	op := s.op(t, path, "get")
	lc := &listCheck{s: s, path: path, documented: map[string]bool{}, page: op.Responses["200"].Content["application/json"].Schema}
	for _, p := range op.Parameters {
		if p.In == "query" {
			lc.documented[p.Name] = true
		}
	}
	lc.srv = twiliostandin.NewServer(accountSID, authToken)
	t.Cleanup(lc.srv.Close)
	lc.recorder = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc.mu.Lock()
		lc.queries = append(lc.queries, r.URL.Query())
		lc.mu.Unlock()
		lc.srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(lc.recorder.Close)
	return lc
}

// sentQueries fails the test unless the client paged (two requests or more)
// and named only documented parameters; it returns the queries it sent.
func (lc *listCheck) sentQueries(t *testing.T, method string) []url.Values {
	t.Helper()
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if len(lc.queries) < 2 {
		t.Fatalf("%d requests, want paging", len(lc.queries))
	}
	for _, q := range lc.queries {
		for k := range q {
			if !lc.documented[k] {
				t.Errorf("%s sent query parameter %q, which the spec does not name", method, k)
			}
		}
	}
	return lc.queries
}

// getPage asks the stand-in for the first page of 50 filtered by to and
// checks the page against the spec's shape.
func (lc *listCheck) getPage(t *testing.T, what, to string) map[string]any {
	t.Helper()
	u := lc.srv.URL + strings.Replace(lc.path, "{AccountSid}", accountSID, 1) + "?" + url.Values{"To": {to}, "PageSize": {"50"}}.Encode()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(accountSID, authToken)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", what, resp.StatusCode, body)
	}
	lc.s.checkObject(t, strings.TrimSuffix(strings.ToLower(what), ".json")+" page", lc.page, body)
	return body
}
