package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"ringback/bot"
	"ringback/handlers"
	"ringback/store"
)

// apiClient calls the read API with a token and checks every request and
// response against the checked-in OpenAPI document.
type apiClient struct {
	h     *harness
	check validator.Validator
}

func newAPIClient(h *harness) *apiClient {
	h.t.Helper()
	doc, err := libopenapi.NewDocument(apiDocument(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		h.t.Fatalf("openapi.json: %v", errs)
	}
	return &apiClient{h: h, check: v}
}

func apiDocument(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// token makes an API token with scope straight in the store, as `ringback
// tokens create` does.
func (h *harness) apiToken(name, scope string) string {
	h.t.Helper()
	token := handlers.APITokenPrefix + strings.Repeat(name[:1], 43)
	if err := h.store.CreateAPIToken(context.Background(), &store.APIToken{
		Name: name, Scope: scope, Hash: handlers.HashAPIToken(token), CreatedAt: h.clock.Now(),
	}); err != nil {
		h.t.Fatal(err)
	}
	return token
}

// get fetches path with token ("" for none), fails the test when the
// exchange breaks the OpenAPI document, and decodes a 2xx body into out.
func (c *apiClient) get(token, path string, out any) int {
	c.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.h.server.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := c.check.ValidateHttpResponse(req, resp); !ok {
		for _, e := range errs {
			c.h.t.Errorf("GET %s: %d breaks openapi.json: %s %s %v", path, resp.StatusCode, e.Message, e.Reason, e.SchemaValidationErrors)
		}
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			c.h.t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	return resp.StatusCode
}

type apiCaseJSON struct {
	ID           int64  `json:"id"`
	State        string `json:"state"`
	Line         string `json:"line"`
	CallerNumber string `json:"caller_number"`
	Timeline     []struct {
		Kind string `json:"kind"`
	} `json:"timeline"`
}

type apiPageJSON struct {
	Cases      []apiCaseJSON `json:"cases"`
	NextCursor string        `json:"next_cursor"`
}

// walk pages through /api/v1/cases?query and returns every case id seen.
func (c *apiClient) walk(token, query string, between func()) []int64 {
	c.h.t.Helper()
	var ids []int64
	path := "/api/v1/cases?" + query
	for range 100 {
		var page apiPageJSON
		if code := c.get(token, path, &page); code != http.StatusOK {
			c.h.t.Fatalf("GET %s: %d", path, code)
		}
		for _, cs := range page.Cases {
			ids = append(ids, cs.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		if between != nil {
			between()
		}
		path = "/api/v1/cases?" + query + "&cursor=" + page.NextCursor
	}
	c.h.t.Fatal("more than 100 pages")
	return nil
}

// The read API's document is valid OpenAPI 3.1, and what the server serves
// at /api/v1/openapi.json is that document.
func TestAPIDocumentIsValidOpenAPI31(t *testing.T) {
	doc, err := libopenapi.NewDocument(apiDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("openapi version %q", v)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("openapi.json does not build: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.json: %s: %s", e.Message, e.Reason)
		}
	}
	h := newHarness(t, "sqlite")
	code, served := h.get("/api/v1/openapi.json")
	if code != http.StatusOK || served != string(apiDocument(t)) {
		t.Fatalf("served document differs from openapi.json (%d)", code)
	}
}

// Walking the pages returns every case once, even while cases change
// between pages; filters narrow the walk; numbers are masked unless the
// token's scope allows them.
func TestAPICasesPagesEveryCaseOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		api := newAPIClient(h)
		read := h.apiToken("reporting", store.ScopeRead)
		numbers := h.apiToken("crm-sync", store.ScopeReadNumbers)
		want := map[int64]bool{}
		var cases []store.Case
		for i := range 7 {
			line := lettings
			if i%2 == 1 {
				line = maint
			}
			c := h.missed("CA7000000000000000000000000000000"+string(rune('0'+i)), "+4477009001"+string(rune('0'+i))+"0", line)
			want[c.ID] = true
			cases = append(cases, c)
			h.clock.Advance(time.Minute)
		}
		start := h.clock.Now()

		changed := 0
		ids := api.walk(read, "limit=3", func() {
			// A case claimed between pages changes its update time, not its place.
			if _, err := h.bot.Claim(context.Background(), cases[changed].ID, aliceActor()); err != nil {
				t.Fatal(err)
			}
			changed++
		})
		if len(ids) != len(want) {
			t.Fatalf("walk returned %v, want each of %d cases once", ids, len(want))
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if !want[id] || seen[id] {
				t.Fatalf("walk returned %v: case %d unexpected or twice", ids, id)
			}
			seen[id] = true
		}

		var page apiPageJSON
		api.get(read, "/api/v1/cases?state=claimed", &page)
		if len(page.Cases) != changed {
			t.Errorf("state=claimed: %d cases, want %d", len(page.Cases), changed)
		}
		api.get(read, "/api/v1/cases?line=Maintenance&limit=200", &page)
		for _, c := range page.Cases {
			if c.Line != "Maintenance" {
				t.Errorf("line=Maintenance returned a case on %q", c.Line)
			}
		}
		if len(page.Cases) != 3 {
			t.Errorf("line=Maintenance: %d cases, want 3", len(page.Cases))
		}
		api.get(read, "/api/v1/cases?updated_since="+start.Format(time.RFC3339), &page)
		if len(page.Cases) != changed {
			t.Errorf("updated_since: %d cases, want the %d claimed since", len(page.Cases), changed)
		}

		api.get(read, "/api/v1/cases?limit=1", &page)
		if got := page.Cases[0].CallerNumber; got != "+*********100" {
			t.Errorf("read scope sees caller number %q, want it masked", got)
		}
		api.get(numbers, "/api/v1/cases?limit=1", &page)
		if got := page.Cases[0].CallerNumber; got != "+447700900100" {
			t.Errorf("read:numbers scope sees caller number %q", got)
		}

		var one apiCaseJSON
		if code := api.get(read, "/api/v1/cases/"+strconv.FormatInt(cases[0].ID, 10), &one); code != http.StatusOK {
			t.Fatalf("one case: %d", code)
		}
		kinds := map[string]bool{}
		for _, e := range one.Timeline {
			kinds[e.Kind] = true
		}
		if one.ID != cases[0].ID || !kinds["case_opened"] || !kinds["claimed"] {
			t.Errorf("case %d timeline kinds %v", one.ID, kinds)
		}
		if code := api.get(read, "/api/v1/cases/999999", nil); code != http.StatusNotFound {
			t.Errorf("unknown case: %d, want 404", code)
		}
	})
}

// No token, a forged, revoked or too narrow one is refused; bad filters get
// 400 and change nothing.
func TestAPIRefusesWithoutTheRightToken(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		api := newAPIClient(h)
		h.missed("CA71000000000000000000000000000001", caller, lettings)
		kpisOnly := h.apiToken("board", store.ScopeReadKPIs)
		read := h.apiToken("reporting", store.ScopeRead)
		for _, tc := range []struct {
			token, path string
			want        int
		}{
			{"", "/api/v1/cases", http.StatusUnauthorized},
			{handlers.APITokenPrefix + "forged", "/api/v1/cases", http.StatusUnauthorized},
			{kpisOnly, "/api/v1/cases", http.StatusForbidden},
			{kpisOnly, "/api/v1/cases/1", http.StatusForbidden},
			{kpisOnly, "/api/v1/kpis?week=2026-W46", http.StatusOK},
			{read, "/api/v1/kpis?week=2026-W47", http.StatusOK},
			{read, "/api/v1/kpis?week=3000-W01", http.StatusBadRequest},
			{read, "/api/v1/cases?state=lost", http.StatusBadRequest},
			{read, "/api/v1/cases?limit=0", http.StatusBadRequest},
			{read, "/api/v1/cases?updated_since=yesterday", http.StatusBadRequest},
			{read, "/api/v1/cases?cursor=Zm9v", http.StatusBadRequest},
			{read, "/api/v1/cases?line=Nowhere", http.StatusBadRequest},
			{read, "/api/v1/cases/abc", http.StatusBadRequest},
		} {
			if got := api.get(tc.token, tc.path, nil); got != tc.want {
				t.Errorf("GET %s with %q: %d, want %d", tc.path, tc.token, got, tc.want)
			}
		}
		if err := h.store.RevokeAPIToken(context.Background(), "reporting", h.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if got := api.get(read, "/api/v1/cases", nil); got != http.StatusUnauthorized {
			t.Errorf("revoked token: %d, want 401", got)
		}
	})
}

// The KPIs are the digest's figures as JSON: the week's missed call shows
// in the total and on its line.
func TestAPIKPIsAreTheDigestsFigures(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		api := newAPIClient(h)
		h.missed("CA72000000000000000000000000000001", caller, lettings)
		h.clock.Advance(time.Minute) // "this" week runs up to now, the call's start excluded
		token := h.apiToken("board", store.ScopeReadKPIs)
		var got struct {
			Label string `json:"label"`
			Total struct {
				Missed int `json:"missed"`
				Cases  int `json:"cases"`
			} `json:"total"`
			Lines []struct {
				Name   string `json:"name"`
				Missed int    `json:"missed"`
			} `json:"lines"`
		}
		if code := api.get(token, "/api/v1/kpis?week=this", &got); code != http.StatusOK {
			t.Fatalf("kpis: %d", code)
		}
		p, err := bot.ISOWeek("this", h.clock.Now(), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		k, err := h.bot.KPIs(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total.Missed != 1 || got.Total.Cases != 1 || got.Total.Missed != k.Total.Missed {
			t.Errorf("total missed %d cases %d; the digest says %d missed", got.Total.Missed, got.Total.Cases, k.Total.Missed)
		}
		if len(got.Lines) == 0 || got.Lines[0].Name != "Lettings" || got.Lines[0].Missed != 1 {
			t.Errorf("lines: %+v", got.Lines)
		}
	})
}
