package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
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
// unless -slack=false, each answering after its configured latency, over
// HTTPS unless -tls=false.
type remotes struct {
	accountSID, authToken string
	tw                    *twiliostandin.Server
	twFront               *httptest.Server
	// caFile holds the stand-ins' certificate, for the server to trust
	// (SSL_CERT_FILE); "" over plain HTTP.
	caFile string

	botToken string
	sl       *slackstandin.Server // nil without Slack
	slFront  *httptest.Server
	slDelay  *delayed

	// Receipts (-receipt-after, -sent-after): due, one or two per text
	// accepted; posted, those whose callback is over; delivered, those the
	// server answered 2xx.
	receiptsDue, receiptsPosted, receiptsDelivered atomic.Int64
}

// receipt has Twilio report text sid as status after d, counted.
func (r *remotes) receipt(sid, status string, d time.Duration) {
	r.receiptsDue.Add(1)
	time.AfterFunc(d, func() {
		if r.tw.Deliver(sid, status, 0) == nil {
			r.receiptsDelivered.Add(1)
		}
		r.receiptsPosted.Add(1)
	})
}

func newRemotes(o options) (*remotes, error) {
	r := &remotes{accountSID: "AC" + harness.RandomHex(32), authToken: harness.RandomHex(32)}
	r.tw = twiliostandin.NewServer(r.accountSID, r.authToken)
	r.tw.SetLatency(o.twilioLatency)
	r.tw.OnMessage(func(m twiliostandin.SentMessage) {
		if o.sentAfter > 0 {
			r.receipt(m.SID, "sent", o.sentAfter)
		}
		if o.receiptAfter > 0 {
			r.receipt(m.SID, "delivered", o.receiptAfter)
		}
	})
	r.twFront = front(r.tw.Handler(), o.tls)
	if o.slack {
		r.botToken = "xoxb-load-" + harness.RandomHex(16)
		r.sl = slackstandin.New(r.botToken)
		r.slDelay = &delayed{next: r.sl.Handler(), latency: o.slackLatency}
		r.slFront = front(r.slDelay, o.tls)
		r.sl.SetBaseURL(r.slFront.URL)
	}
	if o.tls {
		// Every httptest TLS server has the same certificate.
		if err := r.writeCA(); err != nil {
			r.close()
			return nil, fmt.Errorf("the stand-ins' certificate: %w", err)
		}
	}
	return r, nil
}

// writeCA writes the stand-ins' certificate to r.caFile.
func (r *remotes) writeCA() error {
	f, err := os.CreateTemp("", "ringback-load-ca-*.pem")
	if err != nil {
		return err
	}
	r.caFile = f.Name()
	err = pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: r.twFront.Certificate().Raw})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// front serves a stand-in on a port of its own: over HTTPS as the real
// APIs are when tls is set, so that a client that opens a connection per
// request pays its handshakes here too.
func front(h http.Handler, tls bool) *httptest.Server {
	if !tls {
		return httptest.NewServer(h)
	}
	return httptest.NewTLSServer(h)
}

func (r *remotes) close() {
	r.tw.Close()
	r.twFront.Close()
	if r.slFront != nil {
		r.slFront.Close()
	}
	if r.caFile != "" {
		os.Remove(r.caFile)
	}
}

// env is the server's settings for the stand-ins.
func (r *remotes) env() []string {
	env := []string{
		"TWILIO_ACCOUNT_SID=" + r.accountSID,
		"TWILIO_AUTH_TOKEN=" + r.authToken,
		"TWILIO_API_URL=" + r.twFront.URL,
	}
	if r.caFile != "" {
		env = append(env, "SSL_CERT_FILE="+r.caFile)
	}
	if r.sl != nil {
		env = append(env,
			"SLACK_BOT_TOKEN="+r.botToken,
			"SLACK_SIGNING_SECRET="+harness.RandomHex(32),
			"SLACK_API_URL="+r.slFront.URL+"/")
	}
	return env
}

// waitReceipts waits until every text's receipt has been answered, or
// until deadline; it returns the receipts delivered (answered 2xx) and
// those that were not (refused, failed, or not answered by then).
func (r *remotes) waitReceipts(deadline time.Time) (delivered, failed int) {
	for {
		due, posted := r.receiptsDue.Load(), r.receiptsPosted.Load()
		if posted >= due || !time.Now().Before(deadline) {
			delivered := r.receiptsDelivered.Load()
			return int(delivered), int(due - delivered)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
