package main

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ringback/bot/slack/slackstandin"
	"ringback/cmd/internal/harness"
	"ringback/config"
	"ringback/sms/twiliostandin"
)

// remotes are the stand-ins one run's server talks to: Twilio, and Slack
// unless -slack=false, each answering after its configured latency.
type remotes struct {
	accountSID, authToken string
	tw                    *twiliostandin.Server

	botToken string
	sl       *slackstandin.Server // nil without Slack
	slFront  *httptest.Server
	slDelay  *delayed
}

func newRemotes(o options) *remotes {
	r := &remotes{accountSID: "AC" + harness.RandomHex(32), authToken: harness.RandomHex(32)}
	r.tw = twiliostandin.NewServer(r.accountSID, r.authToken)
	r.tw.SetLatency(o.twilioLatency)
	if o.slack {
		r.botToken = "xoxb-load-" + harness.RandomHex(16)
		r.sl = slackstandin.New(r.botToken)
		r.slDelay = &delayed{next: r.sl.Handler(), latency: o.slackLatency}
		r.slFront = httptest.NewServer(r.slDelay)
		r.sl.SetBaseURL(r.slFront.URL)
	}
	return r
}

func (r *remotes) close() {
	r.tw.Close()
	if r.slFront != nil {
		r.slFront.Close()
	}
}

// env is the server's settings for the stand-ins.
func (r *remotes) env() []string {
	env := []string{
		"TWILIO_ACCOUNT_SID=" + r.accountSID,
		"TWILIO_AUTH_TOKEN=" + r.authToken,
		"TWILIO_API_URL=" + r.tw.URL,
	}
	if r.sl != nil {
		env = append(env,
			"SLACK_BOT_TOKEN="+r.botToken,
			"SLACK_SIGNING_SECRET="+harness.RandomHex(32),
			"SLACK_API_URL="+r.slFront.URL+"/")
	}
	return env
}

// cardsPosted is how many top-level messages (cards, mostly) Slack has
// accepted so far; cheap enough to poll.
func (r *remotes) cardsPosted() int64 {
	if r.slDelay == nil {
		return 0
	}
	return r.slDelay.topLevel.Load()
}

// slackCalls is how many times Ringback called each Slack method.
func (r *remotes) slackCalls() map[string]int {
	if r.slDelay == nil {
		return nil
	}
	return r.slDelay.counts()
}

// posted is a message that arrived at a stand-in: to whom (the caller's
// E.164 number) and when the stand-in accepted it.
type posted struct {
	to string
	at time.Time
}

// texts are the messages the Twilio stand-in accepted.
func (r *remotes) texts() []posted {
	var out []posted
	for _, m := range r.tw.Messages() {
		out = append(out, posted{to: m.To, at: m.At})
	}
	return out
}

// cards are the top-level Slack messages that are a case's card, each with
// the caller it names and the time Slack accepted it (its ts); other
// top-level messages count in others.
func (r *remotes) cards() (cards []posted, others int) {
	if r.sl == nil {
		return nil, 0
	}
	for _, ch := range r.sl.Channels() {
		for _, m := range r.sl.Messages(ch) {
			if m.ThreadTS != "" {
				continue
			}
			caller := cardCaller(m.Text)
			if harness.CaseOfCard(m.Blocks, m.Metadata) == 0 || caller == "" {
				others++
				continue
			}
			cards = append(cards, posted{to: caller, at: tsTime(m.TS)})
		}
	}
	return cards, others
}

// cardCaller reads the caller's number back from a card's text, "📞 Missed
// call from 07700 900123 on Lettings" (the number as the region writes it).
func cardCaller(text string) string {
	_, rest, ok := strings.Cut(text, " from ")
	if !ok {
		return ""
	}
	number, _, ok := strings.Cut(rest, " on ")
	if !ok {
		return ""
	}
	e164, err := config.Normalize(number, "GB")
	if err != nil {
		return ""
	}
	return e164
}

// tsTime is the moment a Slack ts ("1700000000.123456") names.
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}
	}
	return time.Unix(s, us*1000)
}

// delayed answers each request after latency, as a remote API across the
// internet does, and counts the top-level chat.postMessage calls it passed
// on.
type delayed struct {
	next     http.Handler
	latency  time.Duration
	topLevel atomic.Int64

	mu    sync.Mutex
	calls map[string]int // by the path's last segment: the Web API method
}

func (d *delayed) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.calls)
}

func (d *delayed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	if d.calls == nil {
		d.calls = map[string]int{}
	}
	method := path.Base(r.URL.Path)
	if strings.Contains(r.URL.Path, "/upload/") {
		method = "upload" // a file's bytes, at its upload URL
	}
	d.calls[method]++
	d.mu.Unlock()
	top := false
	if strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		top = !hasThreadTS(r.Header.Get("Content-Type"), body)
	}
	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	d.next.ServeHTTP(w, r)
	if top {
		d.topLevel.Add(1)
	}
}

// hasThreadTS tells a thread reply from a top-level post, in a form or
// JSON body.
func hasThreadTS(contentType string, body []byte) bool {
	if ct, _, _ := mime.ParseMediaType(contentType); ct == "application/json" {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(body, &m)
		ts, ok := m["thread_ts"]
		return ok && string(ts) != `""` && string(ts) != "null"
	}
	v, _ := url.ParseQuery(string(body))
	return v.Get("thread_ts") != ""
}
