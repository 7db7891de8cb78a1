// Package sandbox is the far end of `ringback demo`: a web page where a
// visitor plays the staff of a Slack-like workspace and a caller on a phone,
// served by the same process as Ringback. It owns the Slack and Twilio
// stand-ins the demo points SLACK_API_URL and TWILIO_API_URL at, the page
// with its JSON API and live events, and the requests sent on the visitor's
// behalf: signed Slack interactions and slash commands, signed Twilio call
// status and SMS webhooks, posted over HTTP to Ringback's real endpoints.
//
// It never calls the bot. What it shows is what the stand-ins recorded, and
// the demo clock is its only hook into Ringback.
package sandbox

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"ringback/bot"
	"ringback/bot/slack/slackstandin"
	"ringback/config"
	"ringback/sms/twiliostandin"
)

// Where the stand-ins are mounted on Ringback's server.
const (
	SlackAPIPath  = "/sandbox/slack/api/"
	TwilioAPIPath = "/sandbox/twilio"
	// SlackUploadPrefix is where the Slack stand-in takes file uploads
	// (the digest's chart): Slack's server, with Slack's size limits.
	SlackUploadPrefix = SlackAPIPath + "upload/"
)

//go:embed static
var static embed.FS

// Options is what the sandbox needs to stand in for Slack, Twilio and the
// people using them.
type Options struct {
	// BaseURL is Ringback's PUBLIC_URL (http://127.0.0.1:PORT): webhooks
	// are posted to it and Twilio signatures computed over it.
	BaseURL string
	Config  *config.Config
	Clock   *bot.OffsetClock
	// SlackToken is SLACK_BOT_TOKEN, which the Slack stand-in accepts;
	// SigningSecret signs what the sandbox sends as Slack.
	SlackToken, SigningSecret string
	// AccountSID and AuthToken are the Twilio credentials the stand-in
	// accepts; the token also signs the webhooks.
	AccountSID, AuthToken string
	Log                   *slog.Logger
}

// Pending tells the busy day's replay whether Ringback has a side effect
// due at now or under way, and when the next one falls due (zero: none).
type Pending func(ctx context.Context, now time.Time) (due bool, next time.Time, err error)

// SetPending gives the replay Ringback's outbox to wait for (the store is
// opened after the sandbox is built). Call it before the server serves.
// Without it the replay jumps the clock without waiting.
func (s *Sandbox) SetPending(p Pending) { s.pending = p }

// User is a workspace member the visitor can act as.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`      // Slack handle
	RealName string `json:"real_name"` // shown and used for {{agent}}
	Manager  bool   `json:"manager"`
}

// Sandbox serves the page and its API, and keeps what the stand-ins do
// not: which modal is open for whom, the phone's side of conversations,
// slash command answers.
type Sandbox struct {
	opt     Options
	log     *slog.Logger
	slack   *slackstandin.Server
	twilio  *twiliostandin.Server
	users   []User
	hc      *http.Client
	hub     *hub
	vers    *versions
	stop    chan struct{}
	once    sync.Once
	cancel  func() // unsubscribes from the Slack stand-in
	pending Pending

	mu        sync.Mutex
	triggers  map[string]string    // trigger_id → user, so views.open knows whose modal it is
	dismissed map[string]bool      // view ids closed by submit or Cancel
	answers   []ephemeral          // slash command answers and response_url posts
	inbound   []phoneMessage       // texts the phone sent
	seen      map[string]time.Time // outbound SMS sid → demo time first seen
	calls     []phoneCall
	busy      busyProgress
	failNext  bool // the next text Ringback sends is reported undelivered
	seq       int
}

// New builds the stand-ins and the workspace: the managers from the config,
// three staff (Alice, Bob, Chen) who are members of every line's channel.
func New(o Options) (*Sandbox, error) {
	if o.Config == nil || o.Clock == nil || o.BaseURL == "" {
		return nil, fmt.Errorf("sandbox: config, clock and base URL are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	s := &Sandbox{
		opt:       o,
		log:       o.Log,
		slack:     slackstandin.New(o.SlackToken),
		twilio:    twiliostandin.NewServer(o.AccountSID, o.AuthToken),
		hc:        &http.Client{Timeout: 20 * time.Second},
		hub:       newHub(),
		vers:      newVersions(),
		stop:      make(chan struct{}),
		triggers:  map[string]string{},
		dismissed: map[string]bool{},
		seen:      map[string]time.Time{},
	}
	s.slack.SetBaseURL(o.BaseURL + SlackAPIPath)
	// Message timestamps follow the demo clock, as they would follow the
	// wall clock in Slack.
	s.slack.SetClock(o.Clock.Now)
	s.users = workspaceUsers(o.Config)
	var staff []string
	for _, u := range s.users {
		s.slack.AddUser(u.ID, u.Name, u.RealName)
		if tz := o.Config.Business.Timezone; tz != nil {
			s.slack.SetUserTZ(u.ID, tz.String())
		}
		if !u.Manager {
			staff = append(staff, u.ID)
		}
	}
	for _, l := range o.Config.Lines {
		s.slack.AddChannel(l.Channel, channelName(l.Name))
		s.slack.SetMembers(l.Channel, staff...)
	}
	if d := o.Config.Digest.Channel; d != "" {
		s.slack.AddChannel(d, "managers-digest")
		s.slack.SetMembers(d, o.Config.Managers...)
	}
	s.cancel = s.slack.OnChange(s.hub.notify)
	return s, nil
}

// workspaceUsers are the people the visitor can be.
func workspaceUsers(cfg *config.Config) []User {
	users := []User{
		{ID: "U0ALICE", Name: "alice", RealName: "Alice Moreno"},
		{ID: "U0BOB", Name: "bob", RealName: "Bob Okafor"},
		{ID: "U0CHEN", Name: "chen", RealName: "Chen Wei"},
	}
	names := []string{"Mia Patel", "Sam Reid", "Ola Nowak"}
	for i, id := range cfg.Managers {
		name := fmt.Sprintf("Manager %d", i+1)
		if i < len(names) {
			name = names[i]
		}
		users = append(users, User{ID: id, Name: strings.ToLower(strings.Fields(name)[0]), RealName: name, Manager: true})
	}
	return users
}

func channelName(line string) string {
	return strings.ToLower(strings.Join(strings.Fields(line), "-"))
}

// Slack is the Slack stand-in (tests read what the bot did through it).
func (s *Sandbox) Slack() *slackstandin.Server { return s.slack }

// Mount adds the stand-ins, the page and its API to Ringback's routes.
func (s *Sandbox) Mount(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle(SlackAPIPath, s.slack.Handler())
	mux.Handle(TwilioAPIPath+"/", http.StripPrefix(TwilioAPIPath, s.twilio.Handler()))

	// The page and its API answer a browser on this machine only.
	page := func(pattern string, h http.Handler) { mux.Handle(pattern, loopbackOnly(h)) }
	sub, _ := fs.Sub(static, "static")
	page("GET /{$}", http.HandlerFunc(s.index))
	page("GET /sandbox/static/", noCache(http.StripPrefix("/sandbox/static/", http.FileServerFS(sub))))
	page("GET /sandbox/state", http.HandlerFunc(s.serveState))
	page("GET /sandbox/files/{id}", http.HandlerFunc(s.serveFile))
	page("GET /sandbox/events", http.HandlerFunc(s.events))
	page("POST /sandbox/api/slack/action", http.HandlerFunc(s.apiAction))
	page("POST /sandbox/api/slack/view/action", http.HandlerFunc(s.apiViewAction))
	page("POST /sandbox/api/slack/view/submit", http.HandlerFunc(s.apiViewSubmit))
	page("POST /sandbox/api/slack/view/close", http.HandlerFunc(s.apiViewClose))
	page("POST /sandbox/api/slack/command", http.HandlerFunc(s.apiCommand))
	page("POST /sandbox/api/slack/home", http.HandlerFunc(s.apiHome))
	page("POST /sandbox/slack/response/{user}/{channel}/{n}", http.HandlerFunc(s.serveResponseURL))
	page("POST /sandbox/api/phone/call", http.HandlerFunc(s.apiCall))
	page("POST /sandbox/api/phone/sms", http.HandlerFunc(s.apiSMS))
	page("POST /sandbox/api/phone/voicemail", http.HandlerFunc(s.apiVoicemail))
	page("POST /sandbox/api/phone/fail-next", http.HandlerFunc(s.apiFailNext))
	page("GET /sandbox/recordings/{sid}", http.HandlerFunc(s.serveRecording))
	page("POST /sandbox/api/clock", http.HandlerFunc(s.apiClock))
	page("POST /sandbox/api/busyday", http.HandlerFunc(s.apiBusyDay))
}

// Run watches the Twilio stand-in for texts Ringback sends, reports them
// to the page and delivers them, until ctx ends; then it stops the
// stand-ins and ends the page's event streams so the server can drain.
func (s *Sandbox) Run(ctx context.Context) {
	defer s.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	seen := 0
	for ctx.Err() == nil {
		// WaitMessages returns as soon as a text arrives: no poll delay.
		msgs := s.twilio.WaitMessages(seen+1, 200*time.Millisecond)
		for _, m := range msgs[seen:] {
			s.mu.Lock()
			s.seen[m.SID] = s.opt.Clock.Now()
			// "Fail the next delivery" takes the first text sent after it.
			fail := s.failNext
			s.failNext = false
			s.mu.Unlock()
			wg.Add(1)
			go func(sid string) {
				defer wg.Done()
				s.deliver(ctx, sid, fail)
			}(m.SID)
		}
		if len(msgs) > seen {
			seen = len(msgs)
			s.hub.notify()
		}
	}
}

// Close ends the event streams and stops the Twilio stand-in's listener.
func (s *Sandbox) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.cancel()
		s.twilio.Close()
	})
}

func (s *Sandbox) user(id string) (User, bool) {
	for _, u := range s.users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

func (s *Sandbox) index(w http.ResponseWriter, r *http.Request) {
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		http.Error(w, "sandbox page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	// The page builds every message from DOM nodes; the policy is a second
	// line of defence should a caller's text ever reach markup.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: http: https:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	w.Write(page)
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// randomHex is n random hex digits (n even).
func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// nextSeq numbers things the sandbox makes (trigger ids, answers).
func (s *Sandbox) nextSeq() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}
