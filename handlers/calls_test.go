package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"ringback/handlers"
)

func (h *harness) postGeneric(body string, signedAt time.Time, secret string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.server.URL+"/calls", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(handlers.SignatureHeader, handlers.SignGeneric(secret, []byte(body), signedAt))
	}
	return h.do(req)
}

func TestGenericWebhook(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		body := `{"id":"rc-1","from":"07700 900123","to":"+441632960001","started_at":"2026-11-16T09:58:00Z","status":"voicemail","voicemail_url":"https://pbx.example/vm/1.mp3","transcript":"Hi, the boiler is off"}`
		code, resp := h.postGeneric(body, h.clock.Now(), hookSecret)
		if code != 200 {
			t.Fatalf("signed call: %d %s", code, resp)
		}
		var out struct {
			CaseID  int64 `json:"case_id"`
			NewCase bool  `json:"new_case"`
		}
		json.Unmarshal([]byte(resp), &out)
		if out.CaseID == 0 || !out.NewCase {
			t.Fatalf("response %s", resp)
		}
		h.flush()
		c := h.openCase(caller, lettings) // "07700 900123" read in the GB region
		if c.Transcript != "Hi, the boiler is off" || c.VoicemailURL == "" || !c.CreatedAt.Equal(time.Date(2026, 11, 16, 9, 58, 0, 0, time.UTC)) {
			t.Fatalf("case = %+v", c)
		}
		if len(h.textsTo(caller)) != 1 {
			t.Fatal("no text-back for a generic missed call")
		}
		// Idempotent on id.
		if code, _ := h.postGeneric(body, h.clock.Now(), hookSecret); code != 200 || h.count("calls") != 1 {
			t.Fatalf("retry: %d, %d calls", code, h.count("calls"))
		}
	})
}

func TestGenericWebhookRefusals(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		ok := `{"id":"rc-2","from":"+447700900123","to":"+441632960001","status":"missed"}`
		cases := []struct {
			name     string
			body     string
			signedAt time.Time
			secret   string
			want     int
		}{
			{"unsigned", ok, h.clock.Now(), "", 403},
			{"wrong secret", ok, h.clock.Now(), "not-the-secret", 403},
			{"six minutes old", ok, h.clock.Now().Add(-6 * time.Minute), hookSecret, 403},
			{"from the future", ok, h.clock.Now().Add(6 * time.Minute), hookSecret, 403},
			{"not JSON", `{"id":`, h.clock.Now(), hookSecret, 400},
			{"unknown status", `{"id":"x","from":"+447700900123","to":"+441632960001","status":"ringing"}`, h.clock.Now(), hookSecret, 400},
			{"no id", `{"from":"+447700900123","to":"+441632960001","status":"missed"}`, h.clock.Now(), hookSecret, 400},
			{"bad number", `{"id":"y","from":"12","to":"+441632960001","status":"missed"}`, h.clock.Now(), hookSecret, 400},
			{"unknown field", `{"id":"z","from":"+447700900123","to":"+441632960001","status":"missed","colour":"red"}`, h.clock.Now(), hookSecret, 400},
			{"oversize", `{"id":"big","transcript":"` + strings.Repeat("a", 70<<10) + `"}`, h.clock.Now(), hookSecret, 413},
		}
		for _, c := range cases {
			if code, body := h.postGeneric(c.body, c.signedAt, c.secret); code != c.want {
				t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
			}
		}
		// A signature over another body does not cover this one.
		req, _ := http.NewRequest("POST", h.server.URL+"/calls", strings.NewReader(ok))
		req.Header.Set(handlers.SignatureHeader, handlers.SignGeneric(hookSecret, []byte(`{"id":"other"}`), h.clock.Now()))
		if code, _ := h.do(req); code != 403 {
			t.Errorf("replayed signature on another body: %d", code)
		}
		for _, table := range []string{"calls", "cases", "messages", "outbox"} {
			if n := h.count(table); n != 0 {
				t.Errorf("%s has %d rows after refused requests", table, n)
			}
		}
	})
}
