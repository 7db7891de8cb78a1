package slackstandin

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the stand-in. All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the listener NewServer started, ending in "/"
	// so that it can be SLACK_API_URL. It is "" for a Server made with New.
	URL string

	token string
	ts    *httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	baseURL  string
	lastTS   int64 // microseconds of the last ts handed out; keeps ts unique and increasing
	seq      int
	messages map[string][]*Message // channel → messages in post order, replies included
	ephem    []Ephemeral
	views    []*View
	files    []*File
	users    map[string]*user
	members  map[string][]string
	names    map[string]string
	outside  map[string]bool // channels the bot is not a member of
	groups   map[string][]string
	dms      map[string]string // sorted, comma-joined user IDs → DM channel
	calls    map[string]int
	failures map[string][]failure
	subs     map[int]func()
	nextSub  int
	changed  chan struct{} // closed and replaced on every change; WaitFor sleeps on it
}

type failure struct {
	status     int // 0 for an {"ok":false} answer
	retryAfter int
	code       string
	lose       bool // do the work, then hang up (LoseAnswerNext)
}

// New makes a stand-in that accepts botToken and does not listen: mount
// Handler() and call SetBaseURL with the URL it is mounted at.
func New(botToken string) *Server {
	return &Server{
		token:    botToken,
		now:      time.Now,
		messages: map[string][]*Message{},
		users:    map[string]*user{},
		members:  map[string][]string{},
		names:    map[string]string{},
		outside:  map[string]bool{},
		groups:   map[string][]string{},
		dms:      map[string]string{},
		calls:    map[string]int{},
		failures: map[string][]failure{},
		subs:     map[int]func(){},
		changed:  make(chan struct{}),
	}
}

// NewServer starts a stand-in on a local listener; point slack-go at URL.
func NewServer(botToken string) *Server {
	s := New(botToken)
	s.ts = httptest.NewServer(s.Handler())
	s.URL = s.ts.URL + "/"
	s.baseURL = s.URL
	return s
}

// Close stops the listener NewServer started.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// Handler serves the Web API methods at "<prefix>/<method>" and file uploads
// at "<prefix>/upload/<file id>", whatever the prefix.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// SetBaseURL sets the URL the Handler is reachable at (a trailing "/" is
// added). Upload URLs are built from it, and slack-go only sends a file to an
// upload URL on the same host as its API URL.
func (s *Server) SetBaseURL(u string) {
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	s.mu.Lock()
	s.baseURL = u
	s.mu.Unlock()
}

// BaseURL returns the URL upload URLs are built from.
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// SetClock replaces time.Now for message timestamps, so tests can fix them.
// Timestamps stay strictly increasing whatever the clock says. now is called
// with the Server's lock held, so it must not call the Server.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// --- workspace setup ---

// AddUser adds a workspace member for users.info; the display name is name
// and the time zone UTC.
func (s *Server) AddUser(id, name, realName string) {
	s.mu.Lock()
	s.users[id] = &user{ID: id, Name: name, RealName: realName, DisplayName: name, TZ: "UTC"}
	s.mu.Unlock()
}

// SetUserTZ sets an added user's IANA time zone.
func (s *Server) SetUserTZ(id, tz string) {
	s.mu.Lock()
	if u, ok := s.users[id]; ok {
		u.TZ = tz
	}
	s.mu.Unlock()
}

// SetMembers sets what conversations.members answers for channel.
func (s *Server) SetMembers(channel string, users ...string) {
	s.mu.Lock()
	s.members[channel] = slices.Clone(users)
	s.mu.Unlock()
}

// AddChannel names a channel for conversations.info (the name is otherwise the ID).
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	s.names[id] = name
	s.mu.Unlock()
}

// SetBotMember sets whether the bot is a member of channel, as
// conversations.info's is_member says (by default it is of every channel).
func (s *Server) SetBotMember(channel string, member bool) {
	s.mu.Lock()
	s.outside[channel] = !member
	s.mu.Unlock()
}

// SetGroupMembers sets what usergroups.users.list answers for a user group.
func (s *Server) SetGroupMembers(group string, users ...string) {
	s.mu.Lock()
	s.groups[group] = slices.Clone(users)
	s.mu.Unlock()
}

// DM returns the ID of the bot's DM channel with user, the one
// conversations.open answers and chat.postMessage to a user ID posts in.
func (s *Server) DM(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := s.dmLocked([]string{user})
	return id
}

// --- scripted failures ---

// FailNext makes the next n calls of method (or "upload" for the upload URL)
// answer with HTTP status. A 429 carries Retry-After: retryAfter seconds and
// Slack's body {"ok":false,"error":"ratelimited"}, which slack-go turns into
// *slack.RateLimitedError.
func (s *Server) FailNext(method string, n, status, retryAfter int) {
	s.mu.Lock()
	for range n {
		s.failures[method] = append(s.failures[method], failure{status: status, retryAfter: retryAfter})
	}
	s.mu.Unlock()
}

// FailNextWith makes the next n calls of method answer HTTP 200 with
// {"ok":false,"error":errorCode}, e.g. "not_in_channel" or "channel_not_found".
func (s *Server) FailNextWith(method string, n int, errorCode string) {
	s.mu.Lock()
	for range n {
		s.failures[method] = append(s.failures[method], failure{code: errorCode})
	}
	s.mu.Unlock()
}

// --- inspection ---

// Calls counts the requests made to method, failed ones included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Channels lists the channels that have messages, sorted.
func (s *Server) Channels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for ch, msgs := range s.messages {
		if len(msgs) > 0 {
			out = append(out, ch)
		}
	}
	slices.Sort(out)
	return out
}

// Messages returns what the channel shows, in post order: top-level messages
// and broadcast thread replies, as in conversations.history. Use Thread for replies.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages[channel] {
		if m.ThreadTS == "" || m.Broadcast {
			out = append(out, m.clone())
		}
	}
	return out
}

// Message returns the message at ts in channel, reply or not.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.findLocked(channel, ts); m != nil {
		return m.clone(), true
	}
	return Message{}, false
}

// Thread returns the parent at ts followed by its replies in post order, as
// conversations.replies does; nil if there is no such message.
func (s *Server) Thread(channel, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages[channel] {
		if m.TS == ts || m.ThreadTS == ts {
			out = append(out, m.clone())
		}
	}
	return out
}

// Ephemerals returns the ephemeral messages shown to user in post order, or
// all of them when user is "".
func (s *Server) Ephemerals(user string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ephemeral
	for _, e := range s.ephem {
		if user == "" || e.User == user {
			out = append(out, e)
		}
	}
	return out
}

// Views returns every modal and Home tab in the order they were first opened
// or published, each as it stands now.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, len(s.views))
	for i, v := range s.views {
		out[i] = *v
	}
	return out
}

// HomeView returns the Home tab last published for user.
func (s *Server) HomeView(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.views {
		if v.Method == "views.publish" && v.UserID == user {
			return *v, true
		}
	}
	return View{}, false
}

// ModalView returns the modal last opened or pushed with triggerID.
func (s *Server) ModalView(triggerID string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range slices.Backward(s.views) {
		if v.TriggerID == triggerID && v.Method != "views.publish" {
			return *v, true
		}
	}
	return View{}, false
}

// Files returns the completed uploads in the order they were started.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, f := range s.files {
		if f.completed {
			out = append(out, f.clone())
		}
	}
	return out
}

// Reset forgets messages, ephemerals, views, files, call counts and scripted
// failures; users, channels, groups and DM IDs stay.
func (s *Server) Reset() {
	s.mu.Lock()
	s.messages = map[string][]*Message{}
	s.ephem = nil
	s.views = nil
	s.files = nil
	s.calls = map[string]int{}
	s.failures = map[string][]failure{}
	s.changedLocked()
	subs := s.subsLocked()
	s.mu.Unlock()
	notify(subs)
}

// --- change notification ---

// OnChange registers fn to be called after every change to the workspace
// (not after reads or failed calls). fn runs on the request's goroutine after
// the change is visible, so it must not block; a live page should signal a
// buffered channel. The returned func unregisters fn.
func (s *Server) OnChange(fn func()) (cancel func()) {
	s.mu.Lock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
	}
}

// WaitFor reports whether cond became true within timeout. cond is checked
// after every change and at least every 10 ms, so it may also look at things
// outside the stand-in; it must not hold locks the bot needs.
func (s *Server) WaitFor(cond func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		t := time.NewTimer(min(left, 10*time.Millisecond))
		select {
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) subsLocked() []func() {
	out := make([]func(), 0, len(s.subs))
	for _, fn := range s.subs {
		out = append(out, fn)
	}
	return out
}

func notify(subs []func()) {
	for _, fn := range subs {
		fn()
	}
}

// --- HTTP ---

// params are a method's arguments, from a form, a query or a JSON body; in
// JSON, non-string values are kept as JSON text (blocks, view, files).
type params map[string]string

// result is a method's answer: the fields to add to {"ok":true}, or an error code.
type result struct {
	fields  map[string]any
	err     string
	changed bool
}

func fail(code string) result { return result{err: code} }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) >= 2 && segs[len(segs)-2] == "upload" {
		s.serveUpload(w, r, segs[len(segs)-1])
		return
	}
	method := segs[len(segs)-1]
	if method == "" {
		http.NotFound(w, r)
		return
	}

	p, token, err := readParams(r)

	s.mu.Lock()
	s.calls[method]++
	f, failed := s.popFailureLocked(method)
	if failed && !f.lose {
		s.mu.Unlock()
		writeFailure(w, f)
		return
	}
	var res result
	switch h, known := handlers[method]; {
	case err != nil:
		res = fail("invalid_form_data")
	case token == "":
		res = fail("not_authed")
	case token != s.token:
		res = fail("invalid_auth")
	case !known:
		res = fail("unknown_method")
	default:
		res = h(s, p)
	}
	var subs []func()
	if res.changed {
		s.changedLocked()
		subs = s.subsLocked()
	}
	s.mu.Unlock()
	notify(subs)
	if f.lose {
		hangUp(w)
		return
	}

	body := map[string]any{"ok": res.err == ""}
	if res.err != "" {
		body["error"] = res.err
	}
	for k, v := range res.fields {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) popFailureLocked(method string) (failure, bool) {
	q := s.failures[method]
	if len(q) == 0 {
		return failure{}, false
	}
	s.failures[method] = q[1:]
	return q[0], true
}

func writeFailure(w http.ResponseWriter, f failure) {
	switch {
	case f.status == 0:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": f.code})
	case f.status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
		writeJSON(w, f.status, map[string]any{"ok": false, "error": "ratelimited"})
	default:
		// Slack answers 5xx with an HTML page, which clients must not parse.
		http.Error(w, http.StatusText(f.status), f.status)
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// readParams gathers a method's arguments and the token, which may come as
// "Authorization: Bearer …" or as a token argument.
func readParams(r *http.Request) (params, string, error) {
	p := params{}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		var raw map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return nil, "", err
		}
		for k, v := range raw {
			var str string
			if json.Unmarshal(v, &str) == nil {
				p[k] = str
			} else {
				p[k] = string(v)
			}
		}
		// Query arguments still count next to a JSON body.
		for k, v := range r.URL.Query() {
			if _, ok := p[k]; !ok && len(v) > 0 {
				p[k] = v[0]
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, "", err
		}
		for k, v := range r.Form {
			p[k] = v[0]
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, "", err
		}
		for k, v := range r.Form {
			p[k] = v[0]
		}
	}
	token := p["token"]
	delete(p, "token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && bearer != "" {
		token = bearer
	}
	return p, token, nil
}

// serveUpload takes the bytes for a file announced by
// files.getUploadURLExternal. Slack accepts raw bytes or a multipart form and
// answers 200 with a short text; the upload URL itself needs no token.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	s.calls["upload"]++
	f, failed := s.popFailureLocked("upload")
	s.mu.Unlock()
	if failed {
		writeFailure(w, f)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, err := readUpload(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	s.mu.Lock()
	file := s.fileLocked(id)
	if file == nil || file.completed {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	file.Data = data
	file.uploaded = true
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "OK - %d", len(data))
}

func readUpload(r *http.Request) ([]byte, error) {
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ctype != "multipart/form-data" {
		return io.ReadAll(r.Body)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, fmt.Errorf("upload: no file part")
		}
		if err != nil {
			return nil, err
		}
		if isFilePart(part) {
			return io.ReadAll(part)
		}
	}
}

// isFilePart: slack-go names the part "file", Slack's docs "filename"; either
// way it is the part that carries a file name.
func isFilePart(p *multipart.Part) bool {
	return p.FileName() != "" || p.FormName() == "file"
}
