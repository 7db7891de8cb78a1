// Package discordstandin is a local stand-in for the part of Discord's REST API
// (v9 and v10) that Ringback calls: channel messages (post, edit), threads
// started from a message, DM channels, users, interaction callbacks and
// their webhooks (@original edits, follow-ups), and the application's
// command list. It never reaches the real Discord.
//
// It owns an in-memory guild: the messages of each channel, each thread
// (whose id, as in Discord, is its starter message's id), each user's DMs,
// and what was answered to each interaction token. It is lenient about what
// Ringback does not configure (any channel exists and the bot may post in
// it, any id can be DMed) and strict about the rest: requests need the bot
// token, payloads must keep Discord's limits (MessageProblems), an edit
// needs an existing message, a thread id is an unknown channel until the
// thread is started. Failures are scripted with FailNext (429 with
// retry_after, or any status) and FailNextWith (a Discord error code), and
// DenyChannel models a channel the bot cannot see (403, Missing Access).
//
// Tests point the adapter at URL (discord.New's apiBase); every Discord URL
// is then served here.
package discordstandin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Routes, as the methods FailNext and Calls take them.
const (
	RouteCreateMessage  = "POST /channels/{channel}/messages"
	RouteEditMessage    = "PATCH /channels/{channel}/messages/{message}"
	RouteStartThread    = "POST /channels/{channel}/messages/{message}/threads"
	RouteCreateDM       = "POST /users/@me/channels"
	RouteGetUser        = "GET /users/{user}"
	RouteCallback       = "POST /interactions/{interaction}/{token}/callback"
	RouteEditOriginal   = "PATCH /webhooks/{app}/{token}/messages/{message}"
	RouteFollowup       = "POST /webhooks/{app}/{token}"
	RouteGlobalCommands = "PUT /applications/{app}/commands"
	RouteGuildCommands  = "PUT /applications/{app}/guilds/{guild}/commands"
)

// Message is a message as the stand-in holds it: the latest state after
// edits.
type Message struct {
	ID, ChannelID   string
	Content         string
	Embeds          []*discordgo.MessageEmbed
	Components      json.RawMessage // as sent
	AllowedMentions *discordgo.MessageAllowedMentions
	Flags           int
	Edits           int
	JSON            json.RawMessage // the last payload, as sent
	// Files are the attachments a multipart create carried.
	Files []File
}

// File is a message's attachment.
type File struct {
	Name, ContentType string
	Data              []byte
}

// Thread is a thread started from a message.
type Thread struct {
	ID, ParentID, Name string
	AutoArchive        int
	Messages           []Message
}

// Callback is one interaction callback (POST …/callback).
type Callback struct {
	InteractionID, Token string
	Type                 int
	Data                 json.RawMessage
}

// WebhookMessage is an @original edit or a follow-up for an interaction.
type WebhookMessage struct {
	AppID, Token, MessageID string // MessageID "" for a follow-up
	Message
}

type failure struct {
	status     int
	code       int
	message    string
	retryAfter float64
	lose       bool // do the work, then hang up (LoseAnswerNext)
}

// Server is the stand-in. All its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to give discord.New as apiBase.
	URL string

	token, appID string
	ts           *httptest.Server
	mux          *http.ServeMux

	mu        sync.Mutex
	seq       int64
	channels  map[string][]*Message // channel → top-level messages in post order
	byID      map[string]*Message
	threads   map[string]*Thread
	dmChannel map[string]string // user → DM channel
	dmUser    map[string]string // DM channel → user
	dms       map[string][]*Message
	users     map[string]discordgo.User
	denied    map[string]bool
	callbacks []Callback
	webhooks  []WebhookMessage
	commands  map[string][]*discordgo.ApplicationCommand // guild ("" global) → commands
	calls     map[string]int
	failures  map[string][]failure
	nonces    map[string]sentNonce // enforced nonce → the message created with it
	now       func() time.Time
}

// New makes a stand-in that accepts botToken (without "Bot ") for appID
// and does not listen: mount Handler().
func New(botToken, appID string) *Server {
	s := &Server{
		token: botToken, appID: appID, seq: 1_300_000_000_000_000_000,
		channels: map[string][]*Message{}, byID: map[string]*Message{}, threads: map[string]*Thread{},
		dmChannel: map[string]string{}, dmUser: map[string]string{}, dms: map[string][]*Message{},
		users: map[string]discordgo.User{}, denied: map[string]bool{}, commands: map[string][]*discordgo.ApplicationCommand{},
		calls: map[string]int{}, failures: map[string][]failure{}, nonces: map[string]sentNonce{}, now: time.Now,
	}
	s.mux = http.NewServeMux()
	routes := map[string]func(http.ResponseWriter, *http.Request, []byte){
		RouteCreateMessage: s.createMessage, RouteEditMessage: s.editMessage, RouteStartThread: s.startThread,
		RouteCreateDM: s.createDM, RouteGetUser: s.getUser, RouteCallback: s.callback,
		RouteEditOriginal: s.editOriginal, RouteFollowup: s.followup,
		RouteGlobalCommands: s.putCommands, RouteGuildCommands: s.putCommands,
	}
	for route, h := range extraRoutes {
		routes[route] = func(w http.ResponseWriter, r *http.Request, body []byte) { h(s, w, r, body) }
	}
	for route, h := range routes {
		method, path, _ := strings.Cut(route, " ")
		for _, v := range []string{"v9", "v10"} {
			s.mux.Handle(method+" /api/"+v+path, s.wrap(route, h))
		}
	}
	return s
}

// extraRoutes are routes served from files of their own.
var extraRoutes = map[string]func(*Server, http.ResponseWriter, *http.Request, []byte){}

// NewServer starts a stand-in on a local listener.
func NewServer(botToken, appID string) *Server {
	s := New(botToken, appID)
	s.ts = httptest.NewServer(s.mux)
	s.URL = s.ts.URL
	return s
}

// Close stops the listener NewServer started.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// --- setup and scripted failures ---

// AddUser adds a user for GET /users/{id}.
func (s *Server) AddUser(id, username, globalName string) {
	s.mu.Lock()
	s.users[id] = discordgo.User{ID: id, Username: username, GlobalName: globalName}
	s.mu.Unlock()
}

// DeleteMessage deletes a message as a person in the channel may: edits
// of it then fail with Unknown Message.
func (s *Server) DeleteMessage(channel, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.channels[channel]
	for i, m := range ms {
		if m.ID == id {
			s.channels[channel] = append(ms[:i:i], ms[i+1:]...)
			delete(s.byID, id)
			return
		}
	}
}

// DenyChannel makes every post in channel fail as when the bot cannot see
// it (403, code 50001 Missing Access), until AllowChannel.
func (s *Server) DenyChannel(channel string) {
	s.mu.Lock()
	s.denied[channel] = true
	s.mu.Unlock()
}

// AllowChannel undoes DenyChannel.
func (s *Server) AllowChannel(channel string) {
	s.mu.Lock()
	delete(s.denied, channel)
	s.mu.Unlock()
}

// FailNext makes the next n calls of route fail with status. A 429 carries
// Discord's body (retry_after seconds, global false) and Retry-After; it
// sends no X-RateLimit-* headers, so discordgo's bucket never sleeps in a
// test.
func (s *Server) FailNext(route string, n, status int, retryAfter float64) {
	s.mu.Lock()
	for range n {
		s.failures[route] = append(s.failures[route], failure{status: status, retryAfter: retryAfter})
	}
	s.mu.Unlock()
}

// FailNextWith makes the next n calls of route fail with status and a
// Discord error body {"code": code, "message": message}.
func (s *Server) FailNextWith(route string, n, status, code int, message string) {
	s.mu.Lock()
	for range n {
		s.failures[route] = append(s.failures[route], failure{status: status, code: code, message: message})
	}
	s.mu.Unlock()
}

// Calls counts the requests route received, failed ones included.
func (s *Server) Calls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[route]
}

// --- what happened ---

// Messages lists channel's top-level messages (not thread messages).
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.channels[channel])
}

// Thread returns the thread started from message id.
func (s *Server) Thread(id string) (Thread, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.threads[id]
	if !ok {
		return Thread{}, false
	}
	out := *t
	out.Messages = append([]Message(nil), t.Messages...)
	return out, true
}

// DMs lists the direct messages the bot sent user.
func (s *Server) DMs(user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.dms[user])
}

// Callbacks lists the interaction callbacks received.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Callback(nil), s.callbacks...)
}

// Webhooks lists the @original edits and follow-ups for an interaction token.
func (s *Server) Webhooks(token string) []WebhookMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []WebhookMessage
	for _, w := range s.webhooks {
		if w.Token == token {
			out = append(out, w)
		}
	}
	return out
}

// Commands lists the application commands registered in guild ("" global).
func (s *Server) Commands(guild string) []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*discordgo.ApplicationCommand(nil), s.commands[guild]...)
}

func copies(ms []*Message) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = *m
	}
	return out
}

// Text is everything a person reads in m: content, then each embed's
// title, description, fields ("name: value") and footer, one per line.
func (m Message) Text() string {
	parts := []string{}
	if m.Content != "" {
		parts = append(parts, m.Content)
	}
	for _, e := range m.Embeds {
		for _, s := range []string{e.Title, e.Description} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		for _, f := range e.Fields {
			parts = append(parts, f.Name+": "+f.Value)
		}
		if e.Footer != nil && e.Footer.Text != "" {
			parts = append(parts, e.Footer.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// CustomIDs lists the custom ids of m's components, in order.
func (m Message) CustomIDs() []string { return CustomIDs(m.Components) }

// CustomIDs lists the custom ids in a components array, depth first.
func CustomIDs(components json.RawMessage) []string {
	var rows []component
	if len(components) == 0 || json.Unmarshal(components, &rows) != nil {
		return nil
	}
	var out []string
	var walk func(cs []component)
	walk = func(cs []component) {
		for _, c := range cs {
			if c.CustomID != "" {
				out = append(out, c.CustomID)
			}
			walk(c.Components)
		}
	}
	walk(rows)
	return out
}

// --- HTTP ---

func (s *Server) wrap(route string, h func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			apiError(w, http.StatusBadRequest, 0, "cannot read body")
			return
		}
		// Interaction callbacks and webhooks are authorised by their token
		// in the path; everything else needs the bot token.
		if !strings.HasPrefix(route, "POST /interactions") && !strings.HasPrefix(route, "PATCH /webhooks") && !strings.HasPrefix(route, "POST /webhooks") &&
			r.Header.Get("Authorization") != "Bot "+s.token {
			apiError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
			return
		}
		s.mu.Lock()
		s.calls[route]++
		var f *failure
		if q := s.failures[route]; len(q) > 0 {
			f = &q[0]
			s.failures[route] = q[1:]
		}
		s.mu.Unlock()
		if f != nil && f.lose {
			h(discard{header: http.Header{}}, r, body)
			hangUp(w)
			return
		}
		if f != nil {
			if f.status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", strconv.FormatFloat(f.retryAfter, 'f', -1, 64))
				writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": f.retryAfter, "global": false})
				return
			}
			msg := f.message
			if msg == "" {
				msg = http.StatusText(f.status)
			}
			apiError(w, f.status, f.code, msg)
			return
		}
		h(w, r, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message})
}

func invalidForm(w http.ResponseWriter, probs []string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50035, "message": "Invalid Form Body", "errors": probs})
}

// nextID hands out increasing snowflakes, made of the stand-in's clock as
// Discord's are, so a read's before and after work by time. Callers hold s.mu.
func (s *Server) nextID() string {
	s.seq = max(s.seq+1, (s.now().UnixMilli()-discordEpoch)<<22)
	return strconv.FormatInt(s.seq, 10)
}

// messageFields is a message payload; pointers tell "absent" from "empty"
// for edits.
type messageFields struct {
	Content         *string                           `json:"content"`
	Embeds          *[]*discordgo.MessageEmbed        `json:"embeds"`
	Components      json.RawMessage                   `json:"components"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Flags           *int                              `json:"flags"`
}

func (m *Message) apply(f messageFields, raw []byte) {
	if f.Content != nil {
		m.Content = *f.Content
	}
	if f.Embeds != nil {
		m.Embeds = *f.Embeds
	}
	if len(f.Components) > 0 && string(f.Components) != "null" {
		m.Components = f.Components
	}
	if f.AllowedMentions != nil {
		m.AllowedMentions = f.AllowedMentions
	}
	if f.Flags != nil {
		m.Flags = *f.Flags
	}
	m.JSON = append(json.RawMessage(nil), raw...)
}

func decodeMessage(w http.ResponseWriter, body []byte) (messageFields, bool) {
	var f messageFields
	if err := json.Unmarshal(body, &f); err != nil {
		apiError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return f, false
	}
	if probs := MessageProblems(body); len(probs) > 0 {
		invalidForm(w, probs)
		return f, false
	}
	return f, true
}

func messageJSON(m *Message) map[string]any {
	return map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "type": 0}
}

// NonceWindow is how long an enforced nonce dedupes. Discord documents
// "the past few minutes"; the stand-in takes the short end, so tests never
// count on more.
const NonceWindow = 2 * time.Minute

// sentNonce is the answer to the create that carried an enforced nonce.
type sentNonce struct {
	answer map[string]any
	at     time.Time
}

// SetClock replaces time.Now for nonce expiry.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// createMessage posts a message. With a nonce and enforce_nonce, a create
// carrying a nonce the same author (the bot) used within NonceWindow
// creates nothing and answers with the message created then.
func (s *Server) createMessage(w http.ResponseWriter, r *http.Request, body []byte) {
	channel := r.PathValue("channel")
	body, files, ok := multipartMessage(w, r, body)
	if !ok {
		return
	}
	f, ok := decodeMessage(w, body)
	if !ok {
		return
	}
	if f.Content == nil && f.Embeds == nil && len(f.Components) == 0 {
		apiError(w, http.StatusBadRequest, 50006, "Cannot send an empty message")
		return
	}
	var n struct {
		Nonce        json.RawMessage `json:"nonce"`
		EnforceNonce bool            `json:"enforce_nonce"`
	}
	_ = json.Unmarshal(body, &n) // decodeMessage has checked the JSON
	nonce := ""
	if len(n.Nonce) > 0 && string(n.Nonce) != "null" {
		nonce = strings.Trim(string(n.Nonce), `"`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[channel] {
		apiError(w, http.StatusForbidden, discordgo.ErrCodeMissingAccess, "Missing Access")
		return
	}
	if nonce != "" && n.EnforceNonce {
		if prev, ok := s.nonces[nonce]; ok && s.now().Sub(prev.at) < NonceWindow {
			writeJSON(w, http.StatusOK, prev.answer)
			return
		}
	}
	m := &Message{ID: s.nextID(), ChannelID: channel, Files: files}
	m.apply(f, body)
	switch t, thread := s.threads[channel]; {
	case thread:
		t.Messages = append(t.Messages, *m)
		s.byID[m.ID] = m // a thread is a channel: its messages can be edited
	case s.dmUser[channel] != "":
		s.dms[s.dmUser[channel]] = append(s.dms[s.dmUser[channel]], m)
	case s.byID[channel] != nil:
		// A message's id is a channel only once a thread is started from it.
		apiError(w, http.StatusNotFound, discordgo.ErrCodeUnknownChannel, "Unknown Channel")
		return
	default:
		s.channels[channel] = append(s.channels[channel], m)
		s.byID[m.ID] = m
	}
	answer := messageJSON(m)
	if nonce != "" {
		answer["nonce"] = nonce
		if n.EnforceNonce {
			s.nonces[nonce] = sentNonce{answer: answer, at: s.now()}
		}
	}
	writeJSON(w, http.StatusOK, answer)
}

// channelMessage is message id of channel, as the bot may reach it; else it
// has written Discord's 403 or 404 and is nil. s.mu is held.
func (s *Server) channelMessage(w http.ResponseWriter, channel, id string) *Message {
	if s.denied[channel] {
		apiError(w, http.StatusForbidden, discordgo.ErrCodeMissingAccess, "Missing Access")
		return nil
	}
	m := s.byID[id]
	if m == nil || m.ChannelID != channel {
		apiError(w, http.StatusNotFound, discordgo.ErrCodeUnknownMessage, "Unknown Message")
		return nil
	}
	return m
}

// onMessage runs fn, under s.mu, on the message the request's path names;
// if the bot cannot reach it, it answers Discord's 403 or 404 instead.
func (s *Server) onMessage(w http.ResponseWriter, r *http.Request, fn func(m *Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.channelMessage(w, r.PathValue("channel"), r.PathValue("message")); m != nil {
		fn(m)
	}
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request, body []byte) {
	f, ok := decodeMessage(w, body)
	if !ok {
		return
	}
	s.onMessage(w, r, func(m *Message) {
		m.apply(f, body)
		m.Edits++
		// A message in a thread is kept twice: keep the thread's copy current.
		if t, ok := s.threads[m.ChannelID]; ok {
			for i := range t.Messages {
				if t.Messages[i].ID == m.ID {
					t.Messages[i] = *m
				}
			}
		}
		writeJSON(w, http.StatusOK, messageJSON(m))
	})
}

func (s *Server) startThread(w http.ResponseWriter, r *http.Request, body []byte) {
	var req discordgo.ThreadStart
	if err := json.Unmarshal(body, &req); err != nil || req.Name == "" || len([]rune(req.Name)) > 100 {
		invalidForm(w, []string{"name needs 1 to 100 characters"})
		return
	}
	s.onMessage(w, r, func(m *Message) {
		if _, ok := s.threads[m.ID]; ok {
			apiError(w, http.StatusBadRequest, discordgo.ErrCodeThreadAlreadyCreatedForThisMessage, "A thread has already been created for this message")
			return
		}
		s.threads[m.ID] = &Thread{ID: m.ID, ParentID: m.ChannelID, Name: req.Name, AutoArchive: req.AutoArchiveDuration}
		writeJSON(w, http.StatusCreated, map[string]any{"id": m.ID, "type": 11, "parent_id": m.ChannelID, "name": req.Name})
	})
}

func (s *Server) createDM(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RecipientID == "" {
		invalidForm(w, []string{"recipient_id is required"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.dmChannel[req.RecipientID]
	if !ok {
		ch = s.nextID()
		s.dmChannel[req.RecipientID], s.dmUser[ch] = ch, req.RecipientID
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": ch, "type": 1, "recipients": []map[string]any{{"id": req.RecipientID}}})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	u, ok := s.users[r.PathValue("user")]
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, discordgo.ErrCodeUnknownUser, "Unknown User")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "username": u.Username, "global_name": u.GlobalName})
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Type == 0 {
		invalidForm(w, []string{"type is required"})
		return
	}
	if probs := ResponseProblems(body); len(probs) > 0 {
		invalidForm(w, probs)
		return
	}
	s.mu.Lock()
	s.callbacks = append(s.callbacks, Callback{InteractionID: r.PathValue("interaction"), Token: r.PathValue("token"), Type: req.Type, Data: req.Data})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) editOriginal(w http.ResponseWriter, r *http.Request, body []byte) {
	f, ok := decodeMessage(w, body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wm := WebhookMessage{AppID: r.PathValue("app"), Token: r.PathValue("token"), MessageID: r.PathValue("message")}
	wm.ID = s.nextID()
	wm.apply(f, body)
	s.webhooks = append(s.webhooks, wm)
	writeJSON(w, http.StatusOK, messageJSON(&wm.Message))
}

func (s *Server) followup(w http.ResponseWriter, r *http.Request, body []byte) {
	f, ok := decodeMessage(w, body)
	if !ok {
		return
	}
	s.mu.Lock()
	wm := WebhookMessage{AppID: r.PathValue("app"), Token: r.PathValue("token")}
	wm.ID = s.nextID()
	wm.apply(f, body)
	s.webhooks = append(s.webhooks, wm)
	s.mu.Unlock()
	if r.URL.Query().Get("wait") == "true" {
		writeJSON(w, http.StatusOK, messageJSON(&wm.Message))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) putCommands(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.PathValue("app") != s.appID {
		apiError(w, http.StatusForbidden, discordgo.ErrCodeMissingAccess, "Missing Access")
		return
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.Unmarshal(body, &cmds); err != nil {
		invalidForm(w, []string{"a list of commands is required"})
		return
	}
	for i, c := range cmds {
		if c.Name == "" || len(c.Name) > 32 || len([]rune(c.Description)) > 100 {
			invalidForm(w, []string{fmt.Sprintf("%d: name needs 1 to 32 characters, description at most 100", i)})
			return
		}
		for _, o := range c.Options {
			if len([]rune(o.Description)) > 100 || o.Description == "" {
				invalidForm(w, []string{fmt.Sprintf("%d.options.%s: description needs 1 to 100 characters", i, o.Name)})
				return
			}
		}
	}
	s.mu.Lock()
	for _, c := range cmds {
		c.ID, c.ApplicationID, c.GuildID = s.nextID(), s.appID, r.PathValue("guild")
	}
	s.commands[r.PathValue("guild")] = cmds
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, cmds)
}

// ResponseProblems lists what in an interaction response ({type, data})
// breaks Discord's rules: data of the right shape for the type, within the
// limits.
func ResponseProblems(raw []byte) []string {
	var r struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	switch r.Type {
	case 1, 6:
		return nil
	case 5:
		if len(r.Data) == 0 {
			return nil
		}
		return MessageProblems(r.Data)
	case 4, 7:
		if len(r.Data) == 0 {
			return []string{fmt.Sprintf("a type %d response needs data", r.Type)}
		}
		return MessageProblems(r.Data)
	case 9:
		return ModalProblems(r.Data)
	}
	return []string{fmt.Sprintf("unknown interaction response type %d", r.Type)}
}

// multipartMessage reads a create sent as multipart/form-data, as Discord
// takes attachments: the message in the part payload_json, each file in a
// part files[n]. A JSON body comes back as it is.
func multipartMessage(w http.ResponseWriter, r *http.Request, body []byte) ([]byte, []File, bool) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return body, nil, true
	}
	var payload []byte
	var files []File
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			apiError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return nil, nil, false
		}
		data, err := io.ReadAll(part)
		if err != nil {
			apiError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return nil, nil, false
		}
		switch name := part.FormName(); {
		case name == "payload_json":
			payload = data
		case strings.HasPrefix(name, "files["):
			files = append(files, File{Name: part.FileName(), ContentType: part.Header.Get("Content-Type"), Data: data})
		}
	}
	if payload == nil {
		apiError(w, http.StatusBadRequest, 50035, "Invalid Form Body: no payload_json")
		return nil, nil, false
	}
	return payload, files, true
}
