package sms_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ringback/sms"
	"ringback/sms/internal/smstest"
	"ringback/sms/twiliostandin"
)

const statusURL = "https://ringback.example/twilio/sms/status"

var smsSID = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

// pageCounting is a client of a Twilio stand-in that counts the pages
// of list (e.g. "Calls.json") it is asked for.
func pageCounting(t *testing.T, list string) (*sms.Client, *twiliostandin.Server, *atomic.Int32) {
	t.Helper()
	srv := smstest.Server(t)
	var pages atomic.Int32
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/"+list) {
			pages.Add(1)
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(counting.Close)
	return sms.New(smstest.AccountSID, smstest.AuthToken, counting.URL), srv, &pages
}

func textback() sms.Message {
	return sms.Message{
		From:           smstest.LineNumber,
		To:             smstest.Caller,
		Body:           "Hi, it's Northside Lettings. Sorry we missed your call.",
		StatusCallback: statusURL,
	}
}

func TestSendReturnsTheSIDTwilioAssigned(t *testing.T) {
	t.Parallel()
	c, srv := smstest.Setup(t)

	sent, err := c.Send(context.Background(), textback())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !smsSID.MatchString(sent.SID) || sent.Status != "queued" {
		t.Fatalf("Send = %+v, want an SM… sid and status queued", sent)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("stand-in got %d messages, want 1", len(got))
	}
	m := got[0]
	want := twiliostandin.SentMessage{
		SID: sent.SID, AccountSID: smstest.AccountSID, From: smstest.LineNumber, To: smstest.Caller,
		Body: textback().Body, StatusCallback: statusURL, Status: "queued", At: m.At,
	}
	if m != want {
		t.Errorf("stand-in recorded %+v\nwant %+v", m, want)
	}
}

func TestSendWithMessagingServiceIgnoresFrom(t *testing.T) {
	t.Parallel()
	c, srv := smstest.Setup(t)
	msg := textback()
	msg.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"

	if _, err := c.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.Messages()[0]
	if m.From != "" || m.MessagingServiceSID != msg.MessagingServiceSID {
		t.Errorf("From = %q, MessagingServiceSID = %q; want no From and the service", m.From, m.MessagingServiceSID)
	}
}

func TestSendRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                     string
		status, code, retryAfter int
		wantStatus, wantCode     int
		wantRetryAfter           time.Duration
		wantTemporary            bool
		wantText                 string
	}{
		{name: "unsubscribed", status: 400, code: sms.CodeUnsubscribed, wantStatus: 400, wantCode: 21610,
			wantText: "sms: twilio 21610: Attempt to send to unsubscribed recipient"},
		{name: "not mobile", status: 400, code: sms.CodeNotMobile, wantStatus: 400, wantCode: 21614},
		{name: "landline", status: 400, code: sms.CodeLandline, wantStatus: 400, wantCode: 30006},
		{name: "unavailable", status: 503, wantStatus: 503, wantCode: 20500, wantTemporary: true},
		{name: "internal error", status: 500, wantStatus: 500, wantCode: 20500, wantTemporary: true},
		{name: "rate limited", status: 429, retryAfter: 7, wantStatus: 429, wantCode: 20429,
			wantRetryAfter: 7 * time.Second, wantTemporary: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, srv := smstest.Setup(t)
			srv.FailNext(1, tc.status, tc.code, tc.retryAfter)

			_, err := c.Send(context.Background(), textback())
			var e *sms.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send error = %v (%T), want *sms.Error", err, err)
			}
			if e.HTTPStatus != tc.wantStatus || e.Code != tc.wantCode || e.RetryAfter != tc.wantRetryAfter {
				t.Errorf("Error = %+v, want status %d code %d retry after %v", e, tc.wantStatus, tc.wantCode, tc.wantRetryAfter)
			}
			if got := sms.Temporary(err); got != tc.wantTemporary {
				t.Errorf("Temporary = %v, want %v", got, tc.wantTemporary)
			}
			if tc.wantText != "" && err.Error() != tc.wantText {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.wantText)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("a refused message was recorded (%d)", n)
			}
			// The failure was for one request only: the retry goes through.
			if _, err := c.Send(context.Background(), textback()); err != nil {
				t.Errorf("retry: %v", err)
			}
		})
	}
}

func TestSendInvalidRequestsAreRefusedLikeTwilio(t *testing.T) {
	t.Parallel()
	c, _ := smstest.Setup(t)
	cases := map[string]struct {
		edit func(*sms.Message)
		code int
	}{
		"no To":          {func(m *sms.Message) { m.To = "" }, 21604},
		"To not a phone": {func(m *sms.Message) { m.To = "07700 900123" }, sms.CodeInvalidTo},
		"no From":        {func(m *sms.Message) { m.From = "" }, 21603},
		"no Body":        {func(m *sms.Message) { m.Body = "" }, 21602},
	}
	for name, tc := range cases {
		m := textback()
		tc.edit(&m)
		_, err := c.Send(context.Background(), m)
		var e *sms.Error
		if !errors.As(err, &e) || e.HTTPStatus != 400 || e.Code != tc.code || sms.Temporary(err) {
			t.Errorf("%s: err = %v, want a permanent 400 with code %d", name, err, tc.code)
		}
	}
}

func TestSendWrongAuthTokenIs401(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	c := sms.New(smstest.AccountSID, "wrongtoken", srv.URL)

	_, err := c.Send(context.Background(), textback())
	var e *sms.Error
	if !errors.As(err, &e) || e.HTTPStatus != 401 || e.Code != 20003 {
		t.Fatalf("err = %v, want 401 with code 20003", err)
	}
	if sms.Temporary(err) {
		t.Error("a wrong token was called temporary")
	}
	if strings.Contains(err.Error(), "wrongtoken") {
		t.Errorf("the error shows the auth token: %v", err)
	}
}

func TestSendToAClosedServerIsTemporary(t *testing.T) {
	t.Parallel()
	srv := twiliostandin.NewServer(smstest.AccountSID, smstest.AuthToken)
	url := srv.URL
	srv.Close()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, url)

	_, err := c.Send(context.Background(), textback())
	if err == nil {
		t.Fatal("Send to a closed server succeeded")
	}
	var e *sms.Error
	if errors.As(err, &e) {
		t.Errorf("a network error became *sms.Error: %v", err)
	}
	if !sms.Temporary(err) {
		t.Errorf("Temporary(%v) = false, want true", err)
	}
	if !strings.HasPrefix(err.Error(), "sms: ") {
		t.Errorf("error %q does not start with sms:", err)
	}
}

func TestSendHonoursContext(t *testing.T) {
	t.Parallel()
	c, srv := smstest.Setup(t)
	srv.SetLatency(5 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Send(ctx, textback())
	if err == nil {
		t.Fatal("Send succeeded past its deadline")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v after a 100ms deadline", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !sms.Temporary(err) {
		t.Errorf("err = %v, want a temporary DeadlineExceeded", err)
	}

	// An already cancelled context sends nothing.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.Send(ctx, textback()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Send err = %v", err)
	}
}

func TestRefusalWithoutTwilioBodyIsStillAnError(t *testing.T) {
	t.Parallel()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html>bad gateway</html>")
	}))
	defer proxy.Close()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, proxy.URL)

	_, err := c.Send(context.Background(), textback())
	var e *sms.Error
	if !errors.As(err, &e) || e.HTTPStatus != 502 || e.Code != 0 || e.RetryAfter != 3*time.Second {
		t.Fatalf("err = %#v, want *sms.Error 502, code 0, retry after 3s", err)
	}
	if !sms.Temporary(err) || err.Error() != "sms: twilio HTTP 502: Bad Gateway" {
		t.Errorf("Temporary = %v, Error() = %q", sms.Temporary(err), err.Error())
	}
}

func TestAPIURLWithPathPrefix(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	mux := http.NewServeMux()
	mux.Handle("/sandbox/twilio/", http.StripPrefix("/sandbox/twilio", srv.Handler()))
	demo := httptest.NewServer(mux)
	defer demo.Close()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, demo.URL+"/sandbox/twilio/")

	if _, err := c.Send(context.Background(), textback()); err != nil {
		t.Fatalf("Send through a prefix: %v", err)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i := range 150 {
		srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: smstest.LineNumber, Status: "no-answer", StartTime: t0.Add(time.Duration(i) * time.Second)})
	}
	calls, err := c.RecentCalls(context.Background(), smstest.LineNumber, t0)
	if err != nil || len(calls) != 150 {
		t.Fatalf("RecentCalls through a prefix = %d calls, %v; want 150", len(calls), err)
	}
}

func TestNewWithBadAPIURL(t *testing.T) {
	t.Parallel()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, "ftp://nowhere")
	_, err := c.Send(context.Background(), textback())
	if err == nil || sms.Temporary(err) {
		t.Errorf("err = %v, want a permanent configuration error", err)
	}
}

func TestRecentCallsAcrossPages(t *testing.T) {
	t.Parallel()
	c, srv, pages := pageCounting(t, "Calls.json")

	since := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	want := map[string]twiliostandin.CallRecord{}
	for i := range 250 {
		rec := twiliostandin.CallRecord{
			From: fmt.Sprintf("+4477009%05d", i), To: smstest.LineNumber, Status: "no-answer",
			StartTime: since.Add(time.Duration(i) * time.Minute),
		}
		if i%10 == 0 {
			rec.Status, rec.Duration = "completed", 42
		}
		rec.SID = srv.AddCall(rec)
		want[rec.SID] = rec
	}
	// Not to be listed: before since (even on the same day), or to another line.
	srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: smstest.LineNumber, Status: "busy", StartTime: since.Add(-time.Second)})
	srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: smstest.LineNumber, Status: "busy", StartTime: since.Add(-48 * time.Hour)})
	srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: "+441632960002", Status: "busy", StartTime: since.Add(time.Minute)})
	child := srv.AddCall(twiliostandin.CallRecord{
		ParentSID: "CA00000000000000000000000000000001", From: smstest.LineNumber, To: smstest.LineNumber,
		Status: "no-answer", Direction: "outbound-dial", StartTime: since.Add(time.Hour),
	})
	want[child] = twiliostandin.CallRecord{SID: child, ParentSID: "CA00000000000000000000000000000001",
		From: smstest.LineNumber, To: smstest.LineNumber, Status: "no-answer", Direction: "outbound-dial", StartTime: since.Add(time.Hour)}

	calls, err := c.RecentCalls(context.Background(), smstest.LineNumber, since)
	if err != nil {
		t.Fatalf("RecentCalls: %v", err)
	}
	if len(calls) != len(want) {
		t.Fatalf("RecentCalls returned %d calls, want %d", len(calls), len(want))
	}
	if p := pages.Load(); p < 2 {
		t.Errorf("listed in %d page(s), want more than one", p)
	}
	for _, got := range calls {
		w, ok := want[got.SID]
		if !ok {
			t.Fatalf("unexpected call %+v", got)
		}
		delete(want, got.SID)
		dir := w.Direction
		if dir == "" {
			dir = "inbound"
		}
		if got.From != w.From || got.To != w.To || got.Status != w.Status || got.Direction != dir ||
			got.ParentSID != w.ParentSID || got.Duration != w.Duration || !got.StartTime.Equal(w.StartTime) {
			t.Errorf("call %s = %+v, want %+v", got.SID, got, w)
		}
	}
	if len(want) != 0 {
		t.Errorf("%d calls missing", len(want))
	}
}

// Twilio documents StartTime> at day precision; RecentCalls still keeps
// only calls at or after since.
func TestRecentCallsFiltersToTheSecond(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	dayPrecision := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if v := q.Get("StartTime>"); len(v) > len(time.DateOnly) {
			q.Set("StartTime>", v[:len(time.DateOnly)])
			r.URL.RawQuery = q.Encode()
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	defer dayPrecision.Close()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, dayPrecision.URL)

	since := time.Date(2026, 11, 21, 10, 15, 0, 0, time.UTC)
	srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: smstest.LineNumber, Status: "busy", StartTime: since.Add(-time.Minute)})
	at := srv.AddCall(twiliostandin.CallRecord{From: smstest.Caller, To: smstest.LineNumber, Status: "no-answer", StartTime: since})
	calls, err := c.RecentCalls(context.Background(), smstest.LineNumber, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].SID != at {
		t.Errorf("RecentCalls = %+v, want only %s", calls, at)
	}
}

func TestRecentCallsRefused(t *testing.T) {
	t.Parallel()
	srv := smstest.Server(t)
	c := sms.New(smstest.AccountSID, "wrongtoken", srv.URL)
	_, err := c.RecentCalls(context.Background(), smstest.LineNumber, time.Now().Add(-time.Hour))
	var e *sms.Error
	if !errors.As(err, &e) || e.HTTPStatus != 401 {
		t.Fatalf("err = %v, want 401", err)
	}
}

// Temporary is a failure worth retrying; Refused an attempt that left
// nothing at Twilio, so the next may send without asking Twilio for the
// text first (a 500 may come after the message was created).
func TestTemporaryAndRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err                error
		temporary, refused bool
	}{
		{nil, false, false},
		{&sms.Error{HTTPStatus: 429}, true, true},
		{&sms.Error{HTTPStatus: 500}, true, false},
		{fmt.Errorf("outbox: %w", &sms.Error{HTTPStatus: 503}), true, true},
		{&sms.Error{HTTPStatus: 400, Code: sms.CodeUnsubscribed}, false, false},
		{&sms.Error{HTTPStatus: 404}, false, false},
		{fmt.Errorf("outbox: %w", &sms.Error{HTTPStatus: 502}), true, false},
		{fmt.Errorf("sms: send: %w", context.DeadlineExceeded), true, false},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true, false},
		{errors.New("something else"), false, false},
	}
	for _, tc := range cases {
		if got := sms.Temporary(tc.err); got != tc.temporary {
			t.Errorf("Temporary(%v) = %v, want %v", tc.err, got, tc.temporary)
		}
		if got := sms.Refused(tc.err); got != tc.refused {
			t.Errorf("Refused(%v) = %v, want %v", tc.err, got, tc.refused)
		}
	}
}

func TestClientDoesNotPrintItsToken(t *testing.T) {
	t.Parallel()
	c := sms.New(smstest.AccountSID, smstest.AuthToken, "")
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(f, c); strings.Contains(s, smstest.AuthToken) {
			t.Errorf("Sprintf(%q, client) shows the token: %s", f, s)
		}
	}
}
