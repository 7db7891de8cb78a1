// Package sms is Ringback's Twilio client. It owns the conversation with
// Twilio's REST API (sending and listing texts, listing recent calls), the mapping of
// Twilio's refusals to *Error, and the X-Twilio-Signature check for webhooks.
// It speaks Twilio and decides nothing: Twilio's message and call statuses
// and error codes are translated into the bot's words here (outcomes.go),
// and what they mean for a case (opted out, not textable, retry later) is
// the bot's business.
//
// Requests go through twilio-go. twilio-go takes no context and hides the
// response of a refused request, so every call builds a small twilio-go
// client whose transport carries the call's context, points requests at the
// configured API URL and remembers the last response's status and headers
// (Retry-After).
package sms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"ringback/internal/remote"
)

const (
	// requestTimeout bounds one HTTP exchange with Twilio, on top of the
	// caller's context: Twilio answers a send well within a second, and a
	// worker waiting on a hung Twilio delays the texts queued behind it.
	requestTimeout = 10 * time.Second
	// maxBody bounds what is read of one response; a page of 1000 calls is
	// well under it.
	maxBody = 16 << 20
	// callsPageSize is how many calls RecentCalls asks for per page.
	callsPageSize = 100
	// messagesPageSize and maxListed bound OutgoingSince: one line's texts
	// to one caller are few, so a thousand reaches far back.
	messagesPageSize = 100
	maxListed        = 1000
)

// Client talks to Twilio's REST API for one account. It is safe for
// concurrent use.
type Client struct {
	accountSID string
	// creds holds the auth token behind a pointer so that printing a Client
	// with %v shows an address, never the token.
	creds     *client.Credentials
	base      *url.URL // nil: the real API
	baseErr   error    // apiURL did not parse; every call reports it
	transport http.RoundTripper
	timeout   time.Duration // bounds one HTTP exchange
}

// New returns a client for the account. apiURL overrides https://api.twilio.com
// (TWILIO_API_URL, for tests and the demo sandbox); "" means the real API.
// A path in apiURL is kept as a prefix of every request path.
func New(accountSID, authToken, apiURL string) *Client {
	c := &Client{
		accountSID: accountSID,
		creds:      client.NewCredentials(accountSID, authToken),
		timeout:    requestTimeout,
	}
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		switch {
		case err != nil:
			c.baseErr = fmt.Errorf("sms: api URL: %w", err)
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			c.baseErr = fmt.Errorf("sms: api URL %q: want http(s)://host", apiURL)
		default:
			c.base = u
		}
	}
	// Outbox workers send concurrently; each keeps its connection.
	c.transport = remote.Transport()
	return c
}

// SetTimeout bounds each HTTP exchange with Twilio (10 s unless set), so
// that a hung Twilio holds an outbox worker no longer than d per request.
// Set it before the client is used.
func (c *Client) SetTimeout(d time.Duration) {
	if d > 0 {
		c.timeout = d
	}
}

// Message is one outbound text.
type Message struct {
	From                string // E.164 line number; ignored when MessagingServiceSID is set
	MessagingServiceSID string
	To                  string
	Body                string
	StatusCallback      string // PUBLIC_URL + "/twilio/sms/status"
}

// Sent is Twilio's acknowledgement of an accepted message.
type Sent struct{ SID, Status string } // e.g. "SM…", "queued"

// Send asks Twilio to send m. A refusal is an *Error; a network failure is
// some other error for which Temporary reports true.
func (c *Client) Send(ctx context.Context, m Message) (Sent, error) {
	api, ex, err := c.api(ctx)
	if err != nil {
		return Sent{}, err
	}
	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To)
	if m.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(m.MessagingServiceSID)
	} else {
		p.SetFrom(m.From)
	}
	p.SetBody(m.Body)
	if m.StatusCallback != "" {
		p.SetStatusCallback(m.StatusCallback)
	}
	msg, err := api.CreateMessage(p)
	if err != nil {
		return Sent{}, ex.fail("send", err)
	}
	s := Sent{SID: deref(msg.Sid), Status: deref(msg.Status)}
	if s.SID == "" {
		return Sent{}, errors.New("sms: send: Twilio answered without a message sid")
	}
	return s, nil
}

// Call is one call record from Twilio's Calls list.
type Call struct {
	SID, ParentSID, From, To, Status, Direction string
	StartTime                                   time.Time
	Duration                                    int // seconds
}

// RecentCalls lists calls to the number `to` that started at or after `since`
// (all pages). A zero since lists every call; calls that never started are
// then included with a zero StartTime.
func (c *Client) RecentCalls(ctx context.Context, to string, since time.Time) ([]Call, error) {
	p := &openapi.ListCallParams{}
	if to != "" {
		p.SetTo(to)
	}
	if !since.IsZero() {
		p.SetStartTimeAfter(since.UTC())
	}
	recs, err := c.listCalls(ctx, p, "list calls")
	if err != nil {
		return nil, err
	}
	calls := make([]Call, 0, len(recs))
	for _, r := range recs {
		call := callOf(r)
		if s := deref(r.StartTime); s != "" {
			t, err := parseRFC2822(s)
			if err != nil {
				return nil, fmt.Errorf("sms: list calls: call %s: start_time: %w", call.SID, err)
			}
			call.StartTime = t
		}
		if d := deref(r.Duration); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil {
				return nil, fmt.Errorf("sms: list calls: call %s: duration %q: %w", call.SID, d, err)
			}
			call.Duration = n
		}
		// Filter again here: Twilio documents StartTime> at day precision,
		// and "since" is meant to the second.
		if !since.IsZero() && (call.StartTime.IsZero() || call.StartTime.Before(since)) {
			continue
		}
		calls = append(calls, call)
	}
	return calls, nil
}

// ListedMessage is one message from Twilio's Messages list.
type ListedMessage struct {
	SID, From, To, Body, Status, Direction, MessagingServiceSID string
	Created                                                     time.Time
	ErrorCode                                                   int
}

// OutgoingSince lists the outgoing messages to the number `to` (and from
// `from`, unless "") that Twilio created at or after since, newest first. It
// reads at most maxListed messages.
//
// It filters by creation time itself rather than with DateSent: DateSent
// compares GMT dates against when Twilio sent a message, and a message still
// queued at Twilio has no sent date, so the filter would hide exactly the
// message that was accepted a moment ago.
func (c *Client) OutgoingSince(ctx context.Context, to, from string, since time.Time) ([]ListedMessage, error) {
	api, ex, err := c.api(ctx)
	if err != nil {
		return nil, err
	}
	p := &openapi.ListMessageParams{}
	p.SetTo(to)
	if from != "" {
		p.SetFrom(from)
	}
	p.SetPageSize(messagesPageSize)
	p.SetLimit(maxListed)
	recs, err := api.ListMessage(p)
	if err != nil {
		return nil, ex.fail("list messages", err)
	}
	var out []ListedMessage
	for _, r := range recs {
		m := ListedMessage{
			SID:                 deref(r.Sid),
			From:                deref(r.From),
			To:                  deref(r.To),
			Body:                deref(r.Body),
			Status:              deref(r.Status),
			Direction:           deref(r.Direction),
			MessagingServiceSID: deref(r.MessagingServiceSid),
			ErrorCode:           deref(r.ErrorCode),
		}
		if !strings.HasPrefix(m.Direction, "outbound") {
			continue
		}
		created, err := parseRFC2822(deref(r.DateCreated))
		if err != nil {
			return nil, fmt.Errorf("sms: list messages: message %s: date_created: %w", m.SID, err)
		}
		m.Created = created
		// date_created is to the second.
		if created.Before(since.Truncate(time.Second)) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// MessageStatus reads message sid as Twilio holds it now: its status and
// the error code of a failed delivery (0: none).
func (c *Client) MessageStatus(ctx context.Context, sid string) (status string, errorCode int, err error) {
	api, ex, err := c.api(ctx)
	if err != nil {
		return "", 0, err
	}
	m, err := api.FetchMessage(sid, &openapi.FetchMessageParams{})
	if err != nil {
		return "", 0, ex.fail("fetch message", err)
	}
	return deref(m.Status), deref(m.ErrorCode), nil
}

// api builds the twilio-go service for one call of ours: its transport
// carries ctx and records what the last response said.
func (c *Client) api(ctx context.Context) (*openapi.ApiService, *exchange, error) {
	if c.baseErr != nil {
		return nil, nil, c.baseErr
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("sms: %w", err)
	}
	ex := &exchange{}
	hc := &http.Client{
		Transport: &roundTripper{ctx: ctx, timeout: c.timeout, base: c.base, next: c.transport, ex: ex},
		// As twilio-go's default client: a redirect is an answer, not an order.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tc := &client.Client{Credentials: c.creds, HTTPClient: hc}
	tc.SetAccountSid(c.accountSID)
	return openapi.NewApiServiceWithClient(tc), ex, nil
}

// exchange is what the transport saw of the last response of one call.
type exchange struct {
	mu     sync.Mutex
	status int // 0: no response (network error, or not sent)
	header http.Header
}

func (ex *exchange) set(status int, h http.Header) {
	ex.mu.Lock()
	ex.status, ex.header = status, h
	ex.mu.Unlock()
}

func (ex *exchange) last() (int, http.Header) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.status, ex.header
}

// fail turns what twilio-go returned into our error: *Error when Twilio
// answered with a refusal, a wrapped error otherwise.
func (ex *exchange) fail(op string, err error) error {
	status, h := ex.last()
	var tre *client.TwilioRestError
	if errors.As(err, &tre) {
		e := &Error{HTTPStatus: tre.Status, Code: tre.Code, Message: tre.Message}
		if status >= 300 {
			// The status on the wire is the truth; the body's copy may be absent.
			e.HTTPStatus = status
			e.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
		}
		return e
	}
	if status >= 400 {
		// A refusal whose body was not Twilio's JSON (a proxy's HTML page…).
		return &Error{
			HTTPStatus: status,
			Message:    http.StatusText(status),
			RetryAfter: parseRetryAfter(h.Get("Retry-After"), time.Now()),
		}
	}
	return fmt.Errorf("sms: %s: %w", op, err)
}

// roundTripper sends twilio-go's requests with the call's context, to the
// configured API URL, and buffers each response body so that the per-request
// timeout can end as soon as the response is in (twilio-go does not close
// the body of a refused request; buffering also keeps the connection reusable).
type roundTripper struct {
	ctx     context.Context
	timeout time.Duration
	base    *url.URL
	next    http.RoundTripper
	ex      *exchange
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(rt.ctx, rt.timeout)
	defer cancel()
	r := req.Clone(ctx)
	if rt.base != nil {
		r.URL.Scheme = rt.base.Scheme
		r.URL.Host = rt.base.Host
		r.URL.Path = strings.TrimSuffix(rt.base.Path, "/") + r.URL.Path
		r.URL.RawPath = ""
		r.Host = ""
	}
	rt.ex.set(0, nil)
	resp, err := rt.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("response body over %d bytes", maxBody)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rt.ex.set(resp.StatusCode, resp.Header)
	return resp, nil
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// parseRFC2822 reads Twilio's timestamps ("Thu, 24 Aug 2023 05:01:45 +0000").
func parseRFC2822(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC1123Z, s)
	if err != nil {
		t, err = time.Parse(time.RFC1123, s)
	}
	return t, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
