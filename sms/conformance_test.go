package sms_test

// Conformance with Twilio's own OpenAPI description of the 2010-04-01 API
// (twilio/twilio-oai, a copy in testdata/specs/twilio with its licence):
// the stand-in must answer in the shapes Twilio documents, and the client
// must send only parameters Twilio documents.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/sms"
	"ringback/sms/internal/smstest"
	"ringback/sms/twiliostandin"
)

const (
	messagesPath = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
	callsPath    = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
)

// schema is the part of an OpenAPI schema object these tests read.
type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Nullable   bool               `json:"nullable"`
	Enum       []string           `json:"enum"`
	Pattern    string             `json:"pattern"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
}

type parameter struct {
	Name     string  `json:"name"`
	In       string  `json:"in"`
	Required bool    `json:"required"`
	Schema   *schema `json:"schema"`
}

type operation struct {
	Parameters  []parameter `json:"parameters"`
	RequestBody struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type spec struct {
	// A path item also holds servers, description and x-twilio: operations
	// are decoded on demand.
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

var (
	specOnce sync.Once
	specDoc  *spec
	specErr  error
)

func loadSpec(t *testing.T) *spec {
	t.Helper()
	specOnce.Do(func() {
		p := filepath.Join("..", "testdata", "specs", "twilio", "twilio_api_v2010.json")
		b, err := os.ReadFile(p)
		if err != nil {
			specErr = err
			return
		}
		specDoc = &spec{}
		specErr = json.Unmarshal(b, specDoc)
	})
	if specErr != nil {
		t.Fatalf("Twilio OpenAPI spec: %v", specErr)
	}
	return specDoc
}

func (s *spec) resolve(t *testing.T, sc *schema) *schema {
	t.Helper()
	if sc == nil || sc.Ref == "" {
		return sc
	}
	name := strings.TrimPrefix(sc.Ref, "#/components/schemas/")
	r, ok := s.Components.Schemas[name]
	if !ok {
		t.Fatalf("spec: unresolved %s", sc.Ref)
	}
	return r
}

func (s *spec) op(t *testing.T, path, method string) *operation {
	t.Helper()
	raw, ok := s.Paths[path][method]
	if !ok {
		t.Fatalf("spec has no %s %s", method, path)
	}
	op := &operation{}
	if err := json.Unmarshal(raw, op); err != nil {
		t.Fatalf("spec: %s %s: %v", method, path, err)
	}
	return op
}

// checkObject checks that obj has exactly the schema's properties, each of
// the schema's type (null only where nullable, enum values where listed,
// patterns where given).
func (s *spec) checkObject(t *testing.T, what string, sc *schema, obj map[string]any) {
	t.Helper()
	sc = s.resolve(t, sc)
	for name := range sc.Properties {
		if _, ok := obj[name]; !ok {
			t.Errorf("%s: field %q of the spec is missing", what, name)
		}
	}
	for name, v := range obj {
		p, ok := sc.Properties[name]
		if !ok {
			t.Errorf("%s: field %q is not in the spec", what, name)
			continue
		}
		p = s.resolve(t, p)
		if v == nil {
			// Enum-typed fields come by $ref; Twilio's enums may be null.
			if !p.Nullable && p.Enum == nil {
				t.Errorf("%s: %q is null but not nullable", what, name)
			}
			continue
		}
		switch p.Type {
		case "string":
			str, ok := v.(string)
			if !ok {
				t.Errorf("%s: %q = %v (%T), want a string", what, name, v, v)
				continue
			}
			if p.Enum != nil && !slices.Contains(p.Enum, str) {
				t.Errorf("%s: %q = %q, not one of %v", what, name, str, p.Enum)
			}
			if p.Pattern != "" && !regexp.MustCompile(p.Pattern).MatchString(str) {
				t.Errorf("%s: %q = %q does not match %s", what, name, str, p.Pattern)
			}
		case "integer":
			if f, ok := v.(float64); !ok || f != float64(int64(f)) {
				t.Errorf("%s: %q = %v (%T), want an integer", what, name, v, v)
			}
		case "boolean":
			if _, ok := v.(bool); !ok {
				t.Errorf("%s: %q = %v (%T), want a boolean", what, name, v, v)
			}
		case "object":
			if _, ok := v.(map[string]any); !ok {
				t.Errorf("%s: %q = %v (%T), want an object", what, name, v, v)
			}
		case "array":
			if _, ok := v.([]any); !ok {
				t.Errorf("%s: %q = %v (%T), want an array", what, name, v, v)
			}
		default:
			t.Errorf("%s: %q has spec type %q this test does not know", what, name, p.Type)
		}
	}
}

func post(t *testing.T, base, account, token string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	u := base + strings.Replace(messagesPath, "{AccountSid}", account, 1)
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(account, token)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", req.Method, req.URL.Path, err)
	}
	return resp, body
}

func TestConformanceMessageResource(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	op := s.op(t, messagesPath, "post")
	srv := smstest.Server(t)

	resource := op.Responses["201"].Content["application/json"].Schema
	if resource == nil || resource.Ref != "#/components/schemas/api.v2010.account.message" {
		t.Fatalf("spec's 201 for Messages.json is %+v", resource)
	}
	forms := map[string]url.Values{
		"from a number": {"To": {smstest.Caller}, "From": {smstest.LineNumber}, "Body": {"Hello"}, "StatusCallback": {statusURL}},
		"from a service": {"To": {smstest.Caller}, "MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
			"Body": {strings.Repeat("long text ", 30)}},
	}
	for name, form := range forms {
		resp, body := post(t, srv.URL, smstest.AccountSID, smstest.AuthToken, form)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: status %d, want 201: %v", name, resp.StatusCode, body)
		}
		s.checkObject(t, "message "+name, resource, body)
		if body["status"] != "queued" || body["direction"] != "outbound-api" || body["to"] != smstest.Caller {
			t.Errorf("%s: %v", name, body)
		}
		if _, err := time.Parse(time.RFC1123Z, body["date_created"].(string)); err != nil {
			t.Errorf("%s: date_created is not RFC 2822: %v", name, err)
		}
	}
}

func TestConformanceMessageRequestParameters(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	op := s.op(t, messagesPath, "post")
	body := op.RequestBody.Content["application/x-www-form-urlencoded"].Schema
	if body == nil {
		t.Fatal("spec: Messages.json takes no form body")
	}
	srv := smstest.Server(t)
	full := url.Values{"To": {smstest.Caller}, "From": {smstest.LineNumber}, "Body": {"Hello"}}

	// Each parameter the spec requires is required by the stand-in too.
	if len(body.Required) == 0 {
		t.Fatal("spec requires no parameter; expected To")
	}
	for _, name := range body.Required {
		if _, ok := full[name]; !ok {
			t.Fatalf("spec requires %q, which this test does not send", name)
		}
		f := url.Values{}
		for k, v := range full {
			if k != name {
				f[k] = v
			}
		}
		resp, answer := post(t, srv.URL, smstest.AccountSID, smstest.AuthToken, f)
		if resp.StatusCode != http.StatusBadRequest || answer["code"] != float64(21604) {
			t.Errorf("without %s: %d %v, want 400 code 21604", name, resp.StatusCode, answer)
		}
	}
	if resp, answer := post(t, srv.URL, smstest.AccountSID, smstest.AuthToken, full); resp.StatusCode != http.StatusCreated {
		t.Errorf("with To, From, Body: %d %v, want 201", resp.StatusCode, answer)
	}

	// The path's AccountSid follows the spec's pattern.
	var pattern string
	for _, p := range op.Parameters {
		if p.Name == "AccountSid" && p.In == "path" && p.Required {
			pattern = p.Schema.Pattern
		}
	}
	if pattern != "^AC[0-9a-fA-F]{32}$" {
		t.Fatalf("spec's AccountSid pattern = %q", pattern)
	}
	re := regexp.MustCompile(pattern)
	for _, sid := range []string{"AC123", "XX0123456789abcdef0123456789abcdef", "AC0123456789abcdef0123456789abcdeg"} {
		if re.MatchString(sid) {
			t.Fatalf("%s matches the spec's pattern", sid)
		}
		// Even with the right credentials, a malformed AccountSid is not a resource.
		u := srv.URL + strings.Replace(messagesPath, "{AccountSid}", sid, 1)
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(full.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(smstest.AccountSID, smstest.AuthToken)
		if resp, answer := do(t, req); resp.StatusCode != http.StatusNotFound {
			t.Errorf("AccountSid %s: %d %v, want 404", sid, resp.StatusCode, answer)
		}
	}
	if !re.MatchString(smstest.AccountSID) {
		t.Fatalf("test account %s does not match the spec's pattern", smstest.AccountSID)
	}
}

func TestConformanceErrorShape(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	resp, body := post(t, srv.URL, smstest.AccountSID, "wrongtoken", url.Values{"To": {smstest.Caller}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	want := map[string]any{
		"code": float64(20003), "message": "Authenticate", "status": float64(401),
		"more_info": "https://www.twilio.com/docs/errors/20003",
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
}

// TestConformanceSendFields checks that Client.Send sends exactly the form
// fields Ringback means to, each one named by the spec.
func TestConformanceSendFields(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	documented := s.op(t, messagesPath, "post").RequestBody.Content["application/x-www-form-urlencoded"].Schema.Properties

	srv := smstest.Server(t)
	var mu sync.Mutex
	var forms []url.Values
	var contentTypes []string
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			mu.Lock()
			forms = append(forms, r.PostForm)
			contentTypes = append(contentTypes, r.Header.Get("Content-Type"))
			mu.Unlock()
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	defer recorder.Close()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, recorder.URL)

	withService := textback()
	withService.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
	noCallback := textback()
	noCallback.StatusCallback = ""
	cases := []struct {
		msg  sms.Message
		want []string
	}{
		{textback(), []string{"Body", "From", "StatusCallback", "To"}},
		{withService, []string{"Body", "MessagingServiceSid", "StatusCallback", "To"}},
		{noCallback, []string{"Body", "From", "To"}},
	}
	for i, tc := range cases {
		if _, err := c.Send(context.Background(), tc.msg); err != nil {
			t.Fatalf("case %d: Send: %v", i, err)
		}
		mu.Lock()
		form, ct := forms[i], contentTypes[i]
		mu.Unlock()
		var got []string
		for k := range form {
			got = append(got, k)
			if _, ok := documented[k]; !ok {
				t.Errorf("case %d: Send sent %q, which the spec does not name", i, k)
			}
			if len(form[k]) != 1 {
				t.Errorf("case %d: %q sent %d times", i, k, len(form[k]))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("case %d: Send sent fields %v, want %v", i, got, tc.want)
		}
		if form.Get("To") != tc.msg.To || form.Get("Body") != tc.msg.Body {
			t.Errorf("case %d: form %v", i, form)
		}
		if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			t.Errorf("case %d: Content-Type %q", i, ct)
		}
	}
}

func TestConformanceCallsList(t *testing.T) {
	t.Parallel()
	lc := newListCheck(t, callsPath)

	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 120 {
		lc.srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: smstest.LineNumber, Status: "no-answer", StartTime: since.Add(time.Duration(i) * time.Second)})
	}
	lc.srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: smstest.LineNumber, Status: "completed", Duration: 65, StartTime: since.Add(time.Hour / 2),
		ParentSID: "CA0123456789abcdef0123456789abcdef"})
	if _, err := sms.New(smstest.AccountSID, smstest.AuthToken, lc.recorder.URL).RecentCalls(context.Background(), smstest.LineNumber, since); err != nil {
		t.Fatalf("RecentCalls: %v", err)
	}
	for _, q := range lc.sentQueries(t, "RecentCalls") {
		if q.Get("To") != smstest.LineNumber || q.Get("StartTime>") == "" {
			t.Errorf("query %v lacks To or StartTime>", q)
		}
	}

	// The stand-in's page and call resources have the spec's shape.
	body := lc.getPage(t, "Calls.json", smstest.LineNumber)
	if next, _ := body["next_page_uri"].(string); !strings.HasPrefix(next, "/2010-04-01/Accounts/"+smstest.AccountSID+"/Calls.json?") {
		t.Errorf("next_page_uri = %v", body["next_page_uri"])
	}
	call := lc.s.resolve(t, lc.page).Properties["calls"].Items
	calls := body["calls"].([]any)
	if len(calls) != 50 {
		t.Fatalf("page has %d calls, want 50", len(calls))
	}
	for _, c := range calls[:3] {
		lc.s.checkObject(t, "call", call, c.(map[string]any))
	}
}

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
	lc.srv = smstest.Server(t)
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
	u := lc.srv.URL + strings.Replace(lc.path, "{AccountSid}", smstest.AccountSID, 1) + "?" + url.Values{"To": {to}, "PageSize": {"50"}}.Encode()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(smstest.AccountSID, smstest.AuthToken)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", what, resp.StatusCode, body)
	}
	lc.s.checkObject(t, strings.TrimSuffix(strings.ToLower(what), ".json")+" page", lc.page, body)
	return body
}
