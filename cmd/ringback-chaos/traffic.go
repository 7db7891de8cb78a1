package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ringback/cmd/internal/harness"
	"ringback/sms"
	"ringback/sms/twiliostandin"
)

// Webhook delivery as Twilio's connection overrides allow it: up to 5
// retries (#rc=5), each attempt waiting up to 15 s for an answer (Twilio's
// default timeout), with pauses doubling from 1 s.
const (
	webhookAttempts = 6
	webhookTimeout  = 15 * time.Second
	webhookBackoff  = time.Second
	webhookMaxPause = 8 * time.Second
	// textWait bounds how long a caller who means to reply waits for the
	// text-back before giving up on replying.
	textWait = 60 * time.Second
)

// script is what one caller does.
type script struct {
	number  string
	at      time.Duration   // first call, from the start of traffic
	lines   []string        // called at the same instant
	repeats []time.Duration // further calls to lines[0], each this long after the previous one was answered
	replies []reply         // texts sent once the text-back arrived, to the line that sent it
}

// callerNumber is the i-th caller: UK mobile numbers from +447700910000,
// clear of the staff phones in ringback.example.yaml.
func callerNumber(i int) string { return fmt.Sprintf("+4477009%05d", 10000+i) }

// callerTag names caller i in the words of its texts, in letters: digits
// could spell an emergency number ("caller 999"), which rightly earns the
// caller Ringback's safety text on top of the text-back.
func callerTag(i int) string {
	tag := []byte{}
	for {
		tag = append([]byte{byte('a' + i%26)}, tag...)
		if i /= 26; i == 0 {
			return string(tag)
		}
	}
}

// makeScripts draws n callers at rate first calls per second: some ring
// both lines at once, some ring again, some reply by text — a triage digit
// or words — after their text-back.
func makeScripts(n, rate int, rng *rand.Rand) []script {
	out := make([]script, n)
	for i := range out {
		s := script{number: callerNumber(i), at: time.Duration(i) * time.Second / time.Duration(rate), lines: []string{harness.LettingsLine}}
		switch roll := rng.IntN(100); {
		case roll < 3:
			// Both lines at the same instant: two cases, one text-back.
			s.lines = append(s.lines, harness.MaintenanceLine)
			out[i] = s
			continue
		case roll < 23:
			s.repeats = []time.Duration{2*time.Second + time.Duration(rng.IntN(6000))*time.Millisecond}
		case roll < 28:
			s.repeats = []time.Duration{2 * time.Second, 2*time.Second + time.Duration(rng.IntN(4000))*time.Millisecond}
		}
		switch roll := rng.IntN(100); {
		case roll < 20:
			s.replies = []reply{{body: strconv.Itoa(1 + rng.IntN(3)), digit: true}}
		case roll < 40:
			s.replies = []reply{{body: fmt.Sprintf("Can you call me back after 5? (caller %s)", callerTag(i))}}
		}
		if len(s.replies) > 0 && rng.IntN(4) == 0 {
			s.replies = append(s.replies, reply{body: fmt.Sprintf("Also, the boiler is leaking again (caller %s)", callerTag(i))})
		}
		out[i] = s
	}
	return out
}

// traffic plays the callers against the replicas as Twilio would.
type traffic struct {
	urls                             []string
	next                             atomic.Uint64
	hc                               *http.Client
	tw                               *twiliostandin.Server
	accountSID, authToken, publicURL string

	mu      sync.Mutex
	acks    []time.Duration // answer times of the attempts that got a 2xx
	callers map[string]*callerLog
	texted  map[string]chan string // caller → receives the line that texted, once
	textsTo map[string]int         // number → texts the stand-in took for it so far
	seed    uint64                 // the run's -seed: which texts' callbacks cross

	calls, repeats, smsSent atomic.Int64
	attempts, retried       atomic.Int64
	gaveUp                  atomic.Int64

	receipts receipts
}

// Delivery receipts: Twilio reports each text it accepted "sent" a moment
// later and "delivered" receiptAfter later, each with a signed status
// callback; one text in lateSentEvery has its "sent" arrive after its
// "delivered", as callbacks can cross, and must stay delivered. A callback
// that fails (its replica killed, the database restarting) is posted again
// each receiptPause, at most receiptAttempts times, so that every one
// reaches Ringback while it is up.
const (
	sentAfter       = 300 * time.Millisecond
	receiptAfter    = time.Second
	receiptPause    = time.Second
	receiptAttempts = 60
	lateSentEvery   = 4
)

// receipts is what became of the delivery receipts.
type receipts struct {
	mu       sync.Mutex
	answered []string // SIDs whose "delivered" Ringback answered 2xx
	pending  atomic.Int64
	gaveUp   atomic.Int64 // callbacks never answered 2xx
	lateSent atomic.Int64 // "sent" callbacks answered after their text's "delivered"
}

// lateSent tells whether the n-th text (from 0) to number has its "sent"
// arrive after its "delivered": drawn from the run's seed, so that a run
// repeated with -seed crosses the same texts' callbacks, however the texts
// to different callers interleave. (Two texts racing to one caller, as a
// caller of both lines gets, may swap which of them is crossed; the count
// stays.)
func lateSent(seed uint64, number string, n int) bool {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", seed, number, n)
	return h.Sum64()%lateSentEvery == 0
}

// crosses counts a text the stand-in took for number and tells whether
// its callbacks cross (lateSent).
func (t *traffic) crosses(number string) bool {
	t.mu.Lock()
	n := t.textsTo[number]
	t.textsTo[number]++
	t.mu.Unlock()
	return lateSent(t.seed, number, n)
}

// receipt reports text sid sent, then delivered, as Twilio would; late:
// its "sent" comes after its "delivered" (lateSent).
func (t *traffic) receipt(sid string, late bool) {
	t.receipts.pending.Add(1)
	defer t.receipts.pending.Add(-1)
	time.Sleep(sentAfter)
	if !late && !t.report(sid, "sent") {
		return
	}
	time.Sleep(receiptAfter - sentAfter)
	if !t.report(sid, "delivered") {
		return
	}
	t.receipts.mu.Lock()
	t.receipts.answered = append(t.receipts.answered, sid)
	t.receipts.mu.Unlock()
	if late && t.report(sid, "sent") {
		t.receipts.lateSent.Add(1)
		// Twilio's own record of the text still says delivered.
		_ = t.tw.SetStatus(sid, "delivered", 0)
	}
}

// report posts text sid's status callback until Ringback answers 2xx,
// and says whether it did (false also when Ringback asked for none).
func (t *traffic) report(sid, status string) bool {
	for range receiptAttempts {
		err := t.tw.Deliver(sid, status, 0)
		if err == nil {
			return true
		}
		if errors.Is(err, twiliostandin.ErrNoStatusCallback) {
			return false // Ringback asked for none: nothing to report
		}
		time.Sleep(receiptPause)
	}
	t.receipts.gaveUp.Add(1)
	return false
}

// answeredReceipts lists the SIDs whose receipt Ringback answered 2xx.
func (t *traffic) answeredReceipts() []string {
	t.receipts.mu.Lock()
	defer t.receipts.mu.Unlock()
	return append([]string(nil), t.receipts.answered...)
}

func newTraffic(urls []string, tw *twiliostandin.Server, accountSID, authToken, publicURL string, seed uint64) *traffic {
	t := &traffic{
		urls: urls, tw: tw, accountSID: accountSID, authToken: authToken, publicURL: publicURL, seed: seed,
		hc: &http.Client{
			Timeout: webhookTimeout,
			Transport: &http.Transport{
				Proxy:               nil, // 127.0.0.1 only
				MaxIdleConnsPerHost: 256,
				IdleConnTimeout:     30 * time.Second,
				DisableCompression:  true,
			},
		},
		callers: map[string]*callerLog{},
		texted:  map[string]chan string{},
		textsTo: map[string]int{},
	}
	tw.OnMessage(t.onText)
	return t
}

// onText runs in the Twilio stand-in as it accepts a message: the caller
// "receives" it. It must not block.
func (t *traffic) onText(m twiliostandin.SentMessage) {
	t.mu.Lock()
	ch := t.texted[m.To]
	t.mu.Unlock()
	go t.receipt(m.SID, t.crosses(m.To))
	if ch == nil {
		return
	}
	select {
	case ch <- m.From:
	default: // a later copy: the caller already has one
	}
}

// play offers every script open-loop and returns once each caller is done
// (or ctx ends).
func (t *traffic) play(ctx context.Context, scripts []script, rng *rand.Rand) {
	for _, s := range scripts {
		c := &callerLog{number: s.number, calls: map[string]int{}, replies: map[string][]reply{}}
		t.callers[s.number] = c
		t.texted[s.number] = make(chan string, 1)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now()
	for _, s := range scripts {
		if !sleepCtx(ctx, time.Until(start.Add(s.at))) {
			return
		}
		seed := rng.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.caller(ctx, s, rand.New(rand.NewPCG(seed, 1)))
		}()
	}
}

func (t *traffic) caller(ctx context.Context, s script, rng *rand.Rand) {
	var wg sync.WaitGroup
	for _, line := range s.lines {
		wg.Add(1)
		go func() { defer wg.Done(); t.call(ctx, s.number, line); t.calls.Add(1) }()
	}
	wg.Wait()
	for _, d := range s.repeats {
		if !sleepCtx(ctx, d) {
			return
		}
		t.call(ctx, s.number, s.lines[0])
		t.repeats.Add(1)
	}
	if len(s.replies) == 0 {
		return
	}
	t.mu.Lock()
	ch := t.texted[s.number]
	t.mu.Unlock()
	var line string
	select {
	case line = <-ch:
	case <-time.After(textWait):
		return // no text-back: nothing to reply to (the verdict counts it lost)
	case <-ctx.Done():
		return
	}
	if !strings.HasPrefix(line, "+") {
		line = s.lines[0] // sent from a messaging service: reply to the line called
	}
	for _, r := range s.replies {
		if !sleepCtx(ctx, time.Second+time.Duration(rng.IntN(2000))*time.Millisecond) {
			return
		}
		t.mu.Lock()
		c := t.callers[s.number]
		c.replies[line] = append(c.replies[line], r)
		t.mu.Unlock()
		t.sms(ctx, s.number, line, r.body)
		t.smsSent.Add(1)
	}
}

// call is one missed call: Twilio records it (its Calls list) and posts
// the status callback.
func (t *traffic) call(ctx context.Context, from, line string) {
	sid := harness.NewSID("CA")
	now := time.Now()
	t.tw.AddCall(twiliostandin.CallRecord{SID: sid, From: from, To: line, Status: "no-answer", StartTime: now})
	t.mu.Lock()
	c := t.callers[from]
	c.calls[line]++
	t.mu.Unlock()
	form := url.Values{
		"CallSid":      {sid},
		"AccountSid":   {t.accountSID},
		"From":         {from},
		"To":           {line},
		"CallStatus":   {"no-answer"},
		"Direction":    {"inbound"},
		"CallDuration": {"0"},
		"Timestamp":    {now.UTC().Format(time.RFC1123Z)},
		"ApiVersion":   {"2010-04-01"},
	}
	if at, ok := t.deliver(ctx, "/twilio/voice/status", form); ok {
		t.mu.Lock()
		if c.firstAck.IsZero() || at.Before(c.firstAck) {
			c.firstAck = at
		}
		t.mu.Unlock()
	}
}

// sms is a caller's text to a line.
func (t *traffic) sms(ctx context.Context, from, line, body string) {
	sid := harness.NewSID("SM")
	form := url.Values{
		"MessageSid":  {sid},
		"SmsSid":      {sid},
		"SmsStatus":   {"received"},
		"AccountSid":  {t.accountSID},
		"From":        {from},
		"To":          {line},
		"Body":        {body},
		"NumMedia":    {"0"},
		"NumSegments": {"1"},
		"ApiVersion":  {"2010-04-01"},
	}
	t.deliver(ctx, "/twilio/sms", form)
}

// deliver posts a signed webhook, each attempt to the next replica (the
// load balancer's round robin), until one answers 2xx. It returns when the
// answer arrived.
func (t *traffic) deliver(ctx context.Context, path string, form url.Values) (time.Time, bool) {
	body := form.Encode()
	sig := sms.Sign(t.authToken, t.publicURL+path, form)
	pause := webhookBackoff
	for attempt := 1; attempt <= webhookAttempts; attempt++ {
		if attempt == 2 {
			t.retried.Add(1)
		}
		t.attempts.Add(1)
		u := t.urls[t.next.Add(1)%uint64(len(t.urls))]
		sent := time.Now()
		if t.post(ctx, u+path, body, sig) {
			now := time.Now()
			t.mu.Lock()
			t.acks = append(t.acks, now.Sub(sent))
			t.mu.Unlock()
			return now, true
		}
		if attempt == webhookAttempts || !sleepCtx(ctx, pause) {
			break
		}
		pause = min(2*pause, webhookMaxPause)
	}
	t.gaveUp.Add(1)
	return time.Time{}, false
}

func (t *traffic) post(ctx context.Context, target, body, sig string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := t.hc.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}
