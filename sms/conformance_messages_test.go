package sms_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/sms"
	"ringback/sms/twiliostandin"
)

func TestConformanceMessagesList(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	op := s.op(t, messagesPath, "get")
	documented := map[string]bool{}
	for _, p := range op.Parameters {
		if p.In == "query" {
			documented[p.Name] = true
		}
	}
	page := op.Responses["200"].Content["application/json"].Schema

	srv := twiliostandin.NewServer(accountSID, authToken)
	defer srv.Close()
	var mu sync.Mutex
	var queries []url.Values
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Query())
		mu.Unlock()
		srv.Handler().ServeHTTP(w, r)
	}))
	defer recorder.Close()

	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 120 {
		srv.AddMessage(twiliostandin.SentMessage{From: lineNumber, To: caller, Body: "Hello", StatusCallback: statusURL, At: since.Add(time.Duration(i) * time.Second)})
	}
	delivered := srv.AddMessage(twiliostandin.SentMessage{From: lineNumber, To: caller, Body: "Hello", At: since.Add(time.Hour / 2)})
	if err := srv.Deliver(delivered, "undelivered", 30006); err == nil {
		t.Fatal("Deliver without a StatusCallback succeeded") // it still records the status
	}
	if _, err := sms.New(accountSID, authToken, recorder.URL).OutgoingSince(context.Background(), caller, lineNumber, since); err != nil {
		t.Fatalf("OutgoingSince: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) < 2 {
		t.Fatalf("%d requests, want paging", len(queries))
	}
	for _, q := range queries {
		for k := range q {
			if !documented[k] {
				t.Errorf("OutgoingSince sent query parameter %q, which the spec does not name", k)
			}
		}
		if q.Get("To") != caller || q.Get("From") != lineNumber {
			t.Errorf("query %v lacks To or From", q)
		}
	}

	// The stand-in's page and message resources have the spec's shape.
	u := srv.URL + strings.Replace(messagesPath, "{AccountSid}", accountSID, 1) + "?" + url.Values{"To": {caller}, "PageSize": {"50"}}.Encode()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(accountSID, authToken)
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET Messages.json: %d %v", resp.StatusCode, body)
	}
	s.checkObject(t, "messages page", page, body)
	if next, _ := body["next_page_uri"].(string); !strings.HasPrefix(next, "/2010-04-01/Accounts/"+accountSID+"/Messages.json?") || !strings.Contains(next, "To=") {
		t.Errorf("next_page_uri = %v, want the filters kept", body["next_page_uri"])
	}
	message := s.resolve(t, page).Properties["messages"].Items
	messages := body["messages"].([]any)
	if len(messages) != 50 {
		t.Fatalf("page has %d messages, want 50", len(messages))
	}
	first := messages[0].(map[string]any)
	if first["sid"] != delivered || first["status"] != "undelivered" || first["error_code"] != float64(30006) || first["date_sent"] == nil {
		t.Errorf("newest message = %v, want %s undelivered with error 30006 and a date_sent", first, delivered)
	}
	for _, m := range messages[:3] {
		s.checkObject(t, "message", message, m.(map[string]any))
	}
}
