package twiliostandin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/sms"
	"ringback/sms/internal/smstest"
)

func message(callback string) sms.Message {
	return sms.Message{From: smstest.LineNumber, To: smstest.Caller, Body: "Sorry we missed your call.", StatusCallback: callback}
}

// statusReceiver is Ringback's side of a status callback: it accepts only
// requests whose X-Twilio-Signature checks out against its public URL.
type statusReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
}

func newStatusReceiver(t *testing.T) *statusReceiver {
	rec := &statusReceiver{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		full := rec.URL + r.URL.RequestURI()
		if !sms.ValidateSignature(smstest.AuthToken, full, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		rec.mu.Lock()
		rec.forms = append(rec.forms, r.PostForm)
		rec.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func TestDeliverPostsASignedStatusCallback(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	rec := newStatusReceiver(t)
	c := sms.New(smstest.AccountSID, smstest.AuthToken, srv.URL)
	sent, err := c.Send(context.Background(), message(rec.URL+"/twilio/sms/status?line=lettings"))
	if err != nil {
		t.Fatal(err)
	}

	if err := srv.Deliver(sent.SID, "delivered", 0); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if err := srv.Deliver(sent.SID, "undelivered", sms.CodeLandline); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.forms) != 2 {
		t.Fatalf("receiver accepted %d callbacks, want 2", len(rec.forms))
	}
	first, second := rec.forms[0], rec.forms[1]
	want := url.Values{
		"MessageSid": {sent.SID}, "SmsSid": {sent.SID}, "MessageStatus": {"delivered"}, "SmsStatus": {"delivered"},
		"AccountSid": {smstest.AccountSID}, "From": {smstest.LineNumber}, "To": {smstest.Caller}, "ApiVersion": {"2010-04-01"},
	}
	if first.Encode() != want.Encode() {
		t.Errorf("first callback = %v\nwant %v", first, want)
	}
	if second.Get("MessageStatus") != "undelivered" || second.Get("ErrorCode") != "30006" {
		t.Errorf("second callback = %v", second)
	}
	if m := srv.Messages()[0]; m.Status != "undelivered" || m.ErrorCode != sms.CodeLandline {
		t.Errorf("message now %+v", m)
	}
}

func TestDeliverFailures(t *testing.T) {
	t.Parallel()
	c, srv := smstest.Setup(t)

	if err := srv.Deliver("SM00000000000000000000000000000000", "delivered", 0); err == nil {
		t.Error("Deliver of an unknown message succeeded")
	}
	sent, _ := c.Send(context.Background(), message(""))
	if err := srv.Deliver(sent.SID, "delivered", 0); err == nil {
		t.Error("Deliver without a StatusCallback succeeded")
	}
	// A receiver that checks against another token refuses the callback,
	// and Deliver says so.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if !sms.ValidateSignature("othertoken", "http://"+r.Host+r.URL.RequestURI(), r.PostForm, r.Header.Get("X-Twilio-Signature")) {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer refusing.Close()
	sent, _ = c.Send(context.Background(), message(refusing.URL+"/status"))
	if err := srv.Deliver(sent.SID, "delivered", 0); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("Deliver to a refusing receiver: %v", err)
	}
}

func TestWaitMessages(t *testing.T) {
	t.Parallel()
	c, srv := smstest.Setup(t)

	go func() {
		for range 3 {
			time.Sleep(10 * time.Millisecond)
			_, _ = c.Send(context.Background(), message(""))
		}
	}()
	if got := srv.WaitMessages(3, 5*time.Second); len(got) != 3 {
		t.Fatalf("WaitMessages(3) = %d messages", len(got))
	}
	start := time.Now()
	if got := srv.WaitMessages(4, 50*time.Millisecond); len(got) != 3 {
		t.Errorf("WaitMessages(4) after timeout = %d messages, want the 3 there are", len(got))
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("WaitMessages returned before its timeout")
	}
}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	srv.SetLatency(5 * time.Millisecond)
	srv.FailNext(5, http.StatusServiceUnavailable, 0, 0)
	c := sms.New(smstest.AccountSID, smstest.AuthToken, srv.URL)

	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	sids := map[string]bool{}
	for i := range n {
		wg.Go(func() {
			m := message("")
			m.Body = fmt.Sprintf("message %d", i)
			sent, err := c.Send(context.Background(), m)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if !sms.Temporary(err) {
					t.Errorf("send %d: %v", i, err)
				}
				failed++
				return
			}
			sids[sent.SID] = true
		})
	}
	wg.Wait()
	if failed != 5 || len(sids) != n-5 || len(srv.Messages()) != n-5 {
		t.Errorf("failed %d, distinct sids %d, recorded %d; want 5, %d, %d", failed, len(sids), len(srv.Messages()), n-5, n-5)
	}
}

func TestLatencyDelaysAnswers(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	srv.SetLatency(150 * time.Millisecond)
	c := sms.New(smstest.AccountSID, smstest.AuthToken, srv.URL)
	start := time.Now()
	if _, err := c.Send(context.Background(), message("")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered in %v with 150ms latency", d)
	}
}

func TestRESTSurface(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	base := srv.URL + "/2010-04-01/Accounts/" + smstest.AccountSID

	cases := []struct {
		name, method, path, body string
		user, pass               string
		wantStatus, wantCode     int
	}{
		{"unknown path", "GET", "/2010-04-01/Accounts/" + smstest.AccountSID + "/Nope.json", "", smstest.AccountSID, smstest.AuthToken, 404, 20404},
		{"root", "GET", "/", "", smstest.AccountSID, smstest.AuthToken, 404, 20404},
		{"no auth", "POST", "/Messages.json", "To=%2B447700900123&From=%2B441632960001&Body=hi", "", "", 401, 20003},
		{"wrong account in auth", "POST", "/Messages.json", "To=%2B447700900123&From=%2B441632960001&Body=hi",
			"AC0123456789abcdef0123456789abcdee", smstest.AuthToken, 401, 20003},
		{"other account in path", "POST", "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdee/Messages.json", "To=%2B447700900123&From=%2B441632960001&Body=hi",
			smstest.AccountSID, smstest.AuthToken, 404, 20404},
		{"missing To", "POST", "/Messages.json", "From=%2B441632960001&Body=hi", smstest.AccountSID, smstest.AuthToken, 400, 21604},
		{"missing From", "POST", "/Messages.json", "To=%2B447700900123&Body=hi", smstest.AccountSID, smstest.AuthToken, 400, 21603},
		{"missing Body", "POST", "/Messages.json", "To=%2B447700900123&From=%2B441632960001", smstest.AccountSID, smstest.AuthToken, 400, 21602},
		{"bad service sid", "POST", "/Messages.json", "To=%2B447700900123&MessagingServiceSid=MG1&Body=hi", smstest.AccountSID, smstest.AuthToken, 400, 21701},
		{"too long", "POST", "/Messages.json", "To=%2B447700900123&From=%2B441632960001&Body=" + strings.Repeat("a", 1601), smstest.AccountSID, smstest.AuthToken, 400, 21617},
		{"media only", "POST", "/Messages.json", "To=%2B447700900123&From=%2B441632960001&MediaUrl=https%3A%2F%2Fx.example%2Fa.png", smstest.AccountSID, smstest.AuthToken, 201, 0},
		{"delete messages", "DELETE", "/Messages.json", "", smstest.AccountSID, smstest.AuthToken, 405, 20004},
		{"list messages, wrong token", "GET", "/Messages.json", "", smstest.AccountSID, "wrong", 401, 20003},
		{"bad message page size", "GET", "/Messages.json?PageSize=0", "", smstest.AccountSID, smstest.AuthToken, 400, 20001},
		{"bad date sent", "GET", "/Messages.json?DateSent%3E=yesterday", "", smstest.AccountSID, smstest.AuthToken, 400, 20001},
		{"bad page size", "GET", "/Calls.json?PageSize=5000", "", smstest.AccountSID, smstest.AuthToken, 400, 20001},
		{"bad start time", "GET", "/Calls.json?StartTime%3E=yesterday", "", smstest.AccountSID, smstest.AuthToken, 400, 20001},
	}
	for _, tc := range cases {
		u := base + tc.path
		if strings.HasPrefix(tc.path, "/2010") || tc.path == "/" {
			u = srv.URL + tc.path
		}
		req, _ := http.NewRequest(tc.method, u, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Code     int    `json:"code"`
			Status   any    `json:"status"` // a message's status is a string
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Errorf("%s: body is not JSON: %v", tc.name, err)
			continue
		}
		if resp.StatusCode != tc.wantStatus || body.Code != tc.wantCode {
			t.Errorf("%s: %d code %d (%s), want %d code %d", tc.name, resp.StatusCode, body.Code, body.Message, tc.wantStatus, tc.wantCode)
		}
		if tc.wantCode != 0 && (body.Status != float64(tc.wantStatus) || body.MoreInfo == "" || body.Message == "") {
			t.Errorf("%s: error body %+v is not Twilio's shape", tc.name, body)
		}
	}
}

func TestSegments(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	cases := map[string]string{
		strings.Repeat("a", 160): "1",
		strings.Repeat("a", 161): "2",
		strings.Repeat("€", 80):  "1", // 160 septets: the euro sign is an escape
		strings.Repeat("é", 160): "1", // in GSM-7's basic set
		strings.Repeat("ł", 70):  "1", // not GSM-7: UCS-2
		strings.Repeat("ł", 71):  "2",
		"Thanks 🙏":               "1",
	}
	for body, want := range cases {
		form := url.Values{"To": {smstest.Caller}, "From": {smstest.LineNumber}, "Body": {body}}
		req, _ := http.NewRequest("POST", srv.URL+"/2010-04-01/Accounts/"+smstest.AccountSID+"/Messages.json", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(smstest.AccountSID, smstest.AuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			NumSegments string `json:"num_segments"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if m.NumSegments != want {
			t.Errorf("%.12q…: num_segments %s, want %s", body, m.NumSegments, want)
		}
	}
}

func TestHandlerMountedElsewhere(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	demo := httptest.NewServer(srv.Handler())
	defer demo.Close()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, demo.URL)
	if _, err := c.Send(context.Background(), message("")); err != nil {
		t.Fatal(err)
	}
	if len(srv.Messages()) != 1 {
		t.Error("a message sent through the mounted handler was not recorded")
	}
	// Close stops the server's own listener.
	srv.Close()
	_, err := sms.New(smstest.AccountSID, smstest.AuthToken, srv.URL).Send(context.Background(), message(""))
	var e *sms.Error
	if err == nil || errors.As(err, &e) {
		t.Errorf("send after Close: %v", err)
	}
}
