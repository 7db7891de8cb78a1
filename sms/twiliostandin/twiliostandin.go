// Package twiliostandin is a local stand-in for the part of Twilio's REST API
// (2010-04-01) that Ringback uses: sending a message and listing calls. It
// owns the stand-in's record of what was sent, scripted failures, call
// records, and signed status callbacks. Tests and the product's demo sandbox
// both use it, so it is ordinary code; it never reaches the real Twilio.
//
// It answers as Twilio does per Twilio's OpenAPI description: HTTP Basic
// auth with the account SID and auth token, form-encoded requests, Twilio's
// JSON error shape and codes, RFC 2822 timestamps and Twilio's paging fields.
package twiliostandin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"ringback/sms"
)

const apiVersion = "2010-04-01"

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDPattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	// e164 is what Twilio accepts as a phone number; channel addresses
	// ("whatsapp:+…") are accepted as they are.
	e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
)

// SentMessage is one message the stand-in accepted.
type SentMessage struct {
	SID, AccountSID, From, To, Body, MessagingServiceSID, StatusCallback, Status string
	ErrorCode                                                                    int // set by Deliver
	At                                                                           time.Time
}

// CallRecord is one call the Calls list endpoint returns. An empty SID is
// filled with a fresh "CA…" one; an empty Direction is "inbound".
type CallRecord struct {
	SID, ParentSID, From, To, Status, Direction string
	StartTime                                   time.Time
	Duration                                    int // seconds
}

type failure struct{ status, code, retryAfter int }

// Server is a running stand-in. It is safe for concurrent use.
type Server struct {
	URL string // base URL to give sms.New as apiURL

	accountSID, authToken string
	ts                    *httptest.Server
	handler               http.Handler
	hc                    *http.Client // posts status callbacks
	// route maps a public callback base (PUBLIC_URL) to where the server
	// under test listens, as a reverse proxy would.
	routeFrom, routeTo string

	mu       sync.Mutex
	messages []SentMessage
	arrived  chan struct{} // closed and replaced when a message arrives
	calls    []CallRecord
	numbers  []IncomingNumber
	failures []failure
	failed   int // scripted failures answered
	lists    int // message lists answered (GET Messages.json)
	latency  time.Duration
	// onMessage, when set, runs after a message is recorded and before the
	// API answers: real Twilio can deliver (and call StatusCallback) first.
	onMessage func(SentMessage)
}

// NewServer starts a stand-in for the account; Close stops it.
func NewServer(accountSID, authToken string) *Server {
	s := &Server{
		accountSID: accountSID,
		authToken:  authToken,
		arrived:    make(chan struct{}),
		hc:         &http.Client{Timeout: 10 * time.Second},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/2010-04-01/Accounts/{AccountSid}/Messages.json", s.messagesJSON)
	mux.HandleFunc("/2010-04-01/Accounts/{AccountSid}/Messages/{MessageFile}", s.messageJSON)
	mux.HandleFunc("/2010-04-01/Accounts/{AccountSid}/Calls.json", s.callsJSON)
	mux.HandleFunc("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", s.incomingNumbersJSON)
	mux.HandleFunc("/2010-04-01/Accounts/{AccountFile}", s.accountJSON)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		notFound(w, r)
	})
	s.handler = mux
	s.ts = httptest.NewServer(mux)
	s.URL = s.ts.URL
	return s
}

// Handler serves the stand-in's API, for mounting on another server's mux
// at the root (its paths start with /2010-04-01/).
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

// Messages returns the messages received, in order.
func (s *Server) Messages() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.messages...)
}

// WaitMessages blocks until n messages have arrived or timeout passes, and
// returns the messages received so far (fewer than n on timeout).
func (s *Server) WaitMessages(n int, timeout time.Duration) []SentMessage {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.messages) >= n {
			defer s.mu.Unlock()
			return append([]SentMessage(nil), s.messages...)
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-deadline.C:
			return s.Messages()
		}
	}
}

// FailNext makes the next k requests to Messages.json answer httpStatus with
// Twilio error code (0: the code Twilio uses for that status) and, if
// retryAfter > 0, a Retry-After header of that many seconds.
func (s *Server) FailNext(k, httpStatus, code int, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range k {
		s.failures = append(s.failures, failure{httpStatus, code, retryAfter})
	}
}

// MessageLists says how many lists of messages (GET Messages.json) the
// stand-in answered: how often a client asked for texts it may have sent.
func (s *Server) MessageLists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// EndFailures drops the scripted failures not yet answered (an outage
// ends) and says how many of those scripted were answered.
func (s *Server) EndFailures() (answered int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	answered = s.failed
	s.failures, s.failed = nil, 0
	return answered
}

// RouteCallbacks makes status callbacks addressed under public (the
// PUBLIC_URL Ringback gave Twilio) go to the same path under local, as a
// reverse proxy in front of Ringback would: the signature still covers the
// public URL.
func (s *Server) RouteCallbacks(public, local string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routeFrom, s.routeTo = public, local
}

// OnMessage runs fn for each accepted message before the API answers, so a
// test can deliver the status callback before Ringback learns the SID.
func (s *Server) OnMessage(fn func(SentMessage)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMessage = fn
}

// SetLatency delays each Messages.json answer by d (load tests).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// AddCall adds a call for the Calls list endpoint and returns its SID.
func (s *Server) AddCall(c CallRecord) string {
	if c.SID == "" {
		c.SID = newSID("CA")
	}
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	return c.SID
}

// ErrNoStatusCallback is Deliver's answer for a message sent without a
// StatusCallback: its status moved, and nobody is told.
var ErrNoStatusCallback = errors.New("twiliostandin: deliver: the message has no StatusCallback")

// Deliver moves message sid to status and posts a correctly signed status
// callback to its StatusCallback URL, as Twilio does: MessageSid, SmsSid,
// MessageStatus, SmsStatus, AccountSid, From, To, ApiVersion,
// MessagingServiceSid when set, and ErrorCode when errorCode is non-zero.
// It fails if the message is unknown, has no StatusCallback, or the callback
// does not answer 2xx.
func (s *Server) Deliver(sid, status string, errorCode int) error {
	s.mu.Lock()
	i := s.find(sid)
	if i < 0 {
		s.mu.Unlock()
		return fmt.Errorf("twiliostandin: deliver: no message %s", sid)
	}
	s.messages[i].Status = status
	s.messages[i].ErrorCode = errorCode
	m := s.messages[i]
	target := m.StatusCallback
	if s.routeFrom != "" && strings.HasPrefix(target, s.routeFrom) {
		target = s.routeTo + strings.TrimPrefix(target, s.routeFrom)
	}
	s.mu.Unlock()
	if m.StatusCallback == "" {
		return fmt.Errorf("%w: message %s", ErrNoStatusCallback, sid)
	}
	form := url.Values{
		"MessageSid":    {m.SID},
		"SmsSid":        {m.SID},
		"MessageStatus": {status},
		"SmsStatus":     {status},
		"AccountSid":    {m.AccountSID},
		"To":            {m.To},
		"ApiVersion":    {apiVersion},
	}
	if m.From != "" {
		form.Set("From", m.From)
	}
	if m.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if errorCode != 0 {
		form.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("twiliostandin: deliver %s: %w", sid, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("X-Twilio-Signature", sms.Sign(s.authToken, m.StatusCallback, form))
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("twiliostandin: deliver %s: %w", sid, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("twiliostandin: deliver %s: status callback answered %s", sid, resp.Status)
	}
	return nil
}

func (s *Server) find(sid string) int {
	// From the newest: a receipt is for a recent message (load runs hold
	// thousands).
	for i := len(s.messages) - 1; i >= 0; i-- {
		if s.messages[i].SID == sid {
			return i
		}
	}
	return -1
}

// account checks credentials and the path's AccountSid, answering the
// refusal itself; it reports whether the request may go on.
func (s *Server) account(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || !equal(user, s.accountSID) || !equal(pass, s.authToken) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return false
	}
	sid := r.PathValue("AccountSid")
	if !accountSIDPattern.MatchString(sid) || sid != s.accountSID {
		notFound(w, r)
		return false
	}
	return true
}

func (s *Server) messagesJSON(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	if !s.account(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Could not parse the request body")
		return
	}
	if !s.played(w, r) {
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		s.lists++
		s.mu.Unlock()
		s.listMessages(w, r)
		return
	}

	f := r.PostForm
	to, from, svc, body := f.Get("To"), f.Get("From"), f.Get("MessagingServiceSid"), f.Get("Body")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !strings.Contains(to, ":") && !e164.MatchString(to):
		writeError(w, http.StatusBadRequest, sms.CodeInvalidTo, "Invalid 'To' Phone Number: "+to)
		return
	case from == "" && svc == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case svc != "" && !serviceSIDPattern.MatchString(svc):
		writeError(w, http.StatusBadRequest, 21701, "The Messaging Service Sid "+svc+" is invalid.")
		return
	case body == "" && len(f["MediaUrl"]) == 0 && f.Get("ContentSid") == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(body)) > 1600:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}

	now := time.Now().UTC()
	m := SentMessage{
		SID:                 newSID("SM"),
		AccountSID:          s.accountSID,
		From:                from,
		To:                  to,
		Body:                body,
		MessagingServiceSID: svc,
		StatusCallback:      f.Get("StatusCallback"),
		Status:              "queued",
		At:                  now,
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	hook := s.onMessage
	s.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	writeJSON(w, http.StatusCreated, messageResource(m, len(f["MediaUrl"])))
}

// played waits the scripted latency and plays the next scripted failure,
// answering it itself; it reports whether the request may go on.
func (s *Server) played(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	latency := s.latency
	var fail *failure
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		s.failed++
		fail = &f
	}
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	if fail != nil {
		if fail.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(fail.retryAfter))
		}
		code := fail.code
		if code == 0 {
			code = defaultCode(fail.status)
		}
		writeError(w, fail.status, code, errorMessage(code, fail.status))
		return false
	}
	return true
}

// messageJSON answers GET Messages/{Sid}.json: the message as the list
// shows it now (listedResource), or 404.
func (s *Server) messageJSON(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	if !s.account(w, r) || !s.played(w, r) {
		return
	}
	sid, ok := strings.CutSuffix(r.PathValue("MessageFile"), ".json")
	s.mu.Lock()
	i := -1
	if ok {
		i = s.find(sid)
	}
	var m SentMessage
	if i >= 0 {
		m = s.messages[i]
	}
	s.mu.Unlock()
	if i < 0 {
		notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, listedResource(m))
}

// SetStatus moves message sid to status (errorCode: a failed delivery's)
// without a status callback: one Twilio sent and Ringback never got.
func (s *Server) SetStatus(sid, status string, errorCode int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(sid)
	if i < 0 {
		return fmt.Errorf("twiliostandin: set status: no message %s", sid)
	}
	s.messages[i].Status, s.messages[i].ErrorCode = status, errorCode
	return nil
}

// messageJSON is api.v2010.account.message; pointers are the spec's nullable fields.
type messageJSON struct {
	Body                string            `json:"body"`
	NumSegments         string            `json:"num_segments"`
	Direction           string            `json:"direction"`
	From                *string           `json:"from"`
	To                  string            `json:"to"`
	DateUpdated         string            `json:"date_updated"`
	Price               *string           `json:"price"`
	ErrorMessage        *string           `json:"error_message"`
	URI                 string            `json:"uri"`
	AccountSid          string            `json:"account_sid"`
	NumMedia            string            `json:"num_media"`
	Status              string            `json:"status"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	Sid                 string            `json:"sid"`
	DateSent            *string           `json:"date_sent"`
	DateCreated         string            `json:"date_created"`
	ErrorCode           *int              `json:"error_code"`
	PriceUnit           *string           `json:"price_unit"`
	APIVersion          string            `json:"api_version"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
}

func messageResource(m SentMessage, numMedia int) messageJSON {
	uri := fmt.Sprintf("/%s/Accounts/%s/Messages/%s", apiVersion, m.AccountSID, m.SID)
	created := m.At.Format(time.RFC1123Z)
	return messageJSON{
		Body:                m.Body,
		NumSegments:         strconv.Itoa(segments(m.Body)),
		Direction:           "outbound-api",
		From:                nullable(m.From),
		To:                  m.To,
		DateUpdated:         created,
		URI:                 uri + ".json",
		AccountSid:          m.AccountSID,
		NumMedia:            strconv.Itoa(numMedia),
		Status:              m.Status,
		MessagingServiceSid: nullable(m.MessagingServiceSID),
		Sid:                 m.SID,
		DateCreated:         created,
		APIVersion:          apiVersion,
		SubresourceURIs: map[string]string{
			"media": uri + "/Media.json",
		},
	}
}

func (s *Server) callsJSON(w http.ResponseWriter, r *http.Request) {
	// Creating calls is not part of the stand-in.
	q, pageSize, page, ok := s.listRequest(w, r)
	if !ok {
		return
	}
	var after, before, on time.Time
	if !readFilters(w, q, parseTime, []string{"StartTime>", "StartTime<", "StartTime"}, &after, &before, &on) {
		return
	}

	s.mu.Lock()
	var match []CallRecord
	for _, c := range s.calls {
		switch {
		case q.Has("To") && c.To != q.Get("To"),
			q.Has("From") && c.From != q.Get("From"),
			q.Has("Status") && c.Status != q.Get("Status"),
			q.Has("ParentCallSid") && c.ParentSID != q.Get("ParentCallSid"),
			!after.IsZero() && (c.StartTime.IsZero() || c.StartTime.Before(after)),
			!before.IsZero() && (c.StartTime.IsZero() || c.StartTime.After(before)),
			!on.IsZero() && !sameDay(c.StartTime, on):
			continue
		}
		match = append(match, c)
	}
	s.mu.Unlock()
	// Twilio lists the newest calls first.
	sortCalls(match)

	calls, meta := pageOf(r, match, page, pageSize, func(c CallRecord) callJSON { return callResource(s.accountSID, c) })
	resp := callsPageJSON{Calls: calls, pageJSON: meta}
	writeJSON(w, http.StatusOK, resp)
}

type callsPageJSON struct {
	Calls []callJSON `json:"calls"`
	pageJSON
}

// callJSON is api.v2010.account.call; pointers are the spec's nullable fields.
type callJSON struct {
	Sid             string            `json:"sid"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	ParentCallSid   *string           `json:"parent_call_sid"`
	AccountSid      string            `json:"account_sid"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	PhoneNumberSid  *string           `json:"phone_number_sid"`
	Status          string            `json:"status"`
	StartTime       *string           `json:"start_time"`
	EndTime         *string           `json:"end_time"`
	Duration        *string           `json:"duration"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Direction       string            `json:"direction"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	GroupSid        *string           `json:"group_sid"`
	CallerName      *string           `json:"caller_name"`
	QueueTime       string            `json:"queue_time"`
	TrunkSid        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

func callResource(account string, c CallRecord) callJSON {
	uri := fmt.Sprintf("/%s/Accounts/%s/Calls/%s", apiVersion, account, c.SID)
	j := callJSON{
		Sid:           c.SID,
		ParentCallSid: nullable(c.ParentSID),
		AccountSid:    account,
		To:            c.To,
		ToFormatted:   c.To,
		From:          c.From,
		FromFormatted: c.From,
		Status:        c.Status,
		PriceUnit:     "USD",
		Direction:     c.Direction,
		APIVersion:    apiVersion,
		QueueTime:     "0",
		URI:           uri + ".json",
		SubresourceURIs: map[string]string{
			"notifications": uri + "/Notifications.json",
			"recordings":    uri + "/Recordings.json",
		},
	}
	if !c.StartTime.IsZero() {
		st := c.StartTime.UTC().Format(time.RFC1123Z)
		j.DateCreated, j.DateUpdated, j.StartTime = &st, &st, &st
		end := c.StartTime.Add(time.Duration(c.Duration) * time.Second).UTC().Format(time.RFC1123Z)
		j.EndTime = &end
	}
	// Twilio leaves duration empty for calls that never connected.
	if c.Duration > 0 || c.Status == "completed" {
		d := strconv.Itoa(c.Duration)
		j.Duration = &d
	}
	return j
}

func sortCalls(cs []CallRecord) {
	// Insertion sort keeps it stable and dependency-free; lists are short.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].StartTime.After(cs[j-1].StartTime); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// parseTime reads a StartTime filter: RFC 3339 (what twilio-go sends) or a
// day, YYYY-MM-DD (what Twilio documents).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
}

// writeError answers with Twilio's error shape.
func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		"status":    status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// defaultCode is the Twilio code for a scripted failure given only a status.
func defaultCode(status int) int {
	switch {
	case status == http.StatusTooManyRequests:
		return 20429
	case status == http.StatusUnauthorized:
		return 20003
	case status == http.StatusNotFound:
		return 20404
	case status >= 500:
		return 20500
	default:
		return 0
	}
}

func errorMessage(code, status int) string {
	switch code {
	case sms.CodeUnsubscribed:
		return "Attempt to send to unsubscribed recipient"
	case sms.CodeNotMobile:
		return "'To' number is not a valid mobile number"
	case sms.CodeLandline:
		return "Landline or unreachable carrier"
	case sms.CodeInvalidTo:
		return "Invalid 'To' Phone Number"
	case 20003:
		return "Authenticate"
	case 20429:
		return "Too Many Requests"
	case 20500:
		return "An internal server error has occurred"
	}
	return http.StatusText(status)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// newSID is prefix followed by 32 random hex digits, as Twilio's SIDs.
func newSID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// segments counts SMS segments as carriers do: 160 GSM-7 characters in one
// segment or 153 per segment when split; 70 / 67 once any character needs UCS-2.
func segments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if body == "" {
		return 1
	}
	single, multi, n := 160, 153, septets
	if !gsm {
		single, multi = 70, 67
		n = 0
		for _, r := range body {
			n++
			if r > 0xFFFF { // a surrogate pair: two UCS-2 units
				n++
			}
		}
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "^{}\\[~]|€\f"
)
