package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"ringback/config"
	"ringback/sms"
)

// withheldFrom is how Twilio reports a withheld number: ANONYMOUS spelt on
// a keypad.
const withheldFrom = "+266696687"

const twilioAPIVersion = "2010-04-01"

// phoneCall is a call the phone made, as the sandbox reported it.
type phoneCall struct {
	SID      string    `json:"sid"`
	From     string    `json:"from"` // E.164; "" when withheld
	To       string    `json:"to"`
	Status   string    `json:"status"` // the CallStatus sent
	Duration int       `json:"duration"`
	At       time.Time `json:"at"`
	Result   int       `json:"result"` // Ringback's HTTP status
}

// phoneMessage is one text on a phone's screen.
type phoneMessage struct {
	SID    string    `json:"sid,omitempty"`
	Dir    string    `json:"dir"`   // in: the phone sent it; out: Ringback did; carrier: the carrier's own reply
	Phone  string    `json:"phone"` // the caller's number
	Line   string    `json:"line"`  // the line's number
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
	Status string    `json:"status"` // queued, sent, delivered, failed… for out; received or failed for in
}

// postTwilio posts form to Ringback as Twilio does: form-encoded and
// signed with the auth token over PUBLIC_URL + path.
func (s *Sandbox) postTwilio(ctx context.Context, path string, form url.Values) (int, error) {
	code, _, err := s.postTwilioRead(ctx, path, form)
	return code, err
}

// postTwilioRead is postTwilio that also returns Ringback's answer (the
// TwiML a voice webhook answers with).
func (s *Sandbox) postTwilioRead(ctx context.Context, path string, form url.Values) (int, []byte, error) {
	full := s.opt.BaseURL + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, full, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, fmt.Errorf("sandbox: twilio request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", randomHex(32))
	req.Header.Set("X-Twilio-Signature", sms.Sign(s.opt.AuthToken, full, form))
	res, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("sandbox: post %s: %w", path, err)
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	return res.StatusCode, body, nil
}

// reportCall posts Twilio's status callback for an inbound call that ended.
// at is when the call ended; Ringback dates the call from it.
func (s *Sandbox) reportCall(ctx context.Context, from, to, status string, duration int, at time.Time) (phoneCall, error) {
	c := phoneCall{SID: "CA" + randomHex(32), From: from, To: to, Status: status, Duration: duration, At: at}
	caller := from
	if caller == "" {
		caller = withheldFrom
	}
	form := url.Values{
		"AccountSid": {s.opt.AccountSID}, "ApiVersion": {twilioAPIVersion}, "CallSid": {c.SID},
		"CallStatus": {status}, "Direction": {"inbound"}, "From": {caller}, "Caller": {caller},
		"To": {to}, "Called": {to}, "CallDuration": {strconv.Itoa(duration)},
		"Timestamp": {at.UTC().Format(time.RFC1123Z)}, "CallbackSource": {"call-progress-events"}, "SequenceNumber": {"0"},
	}
	if duration > 0 {
		form.Set("Duration", strconv.Itoa((duration+59)/60)) // Twilio's billed minutes
	}
	code, err := s.postTwilio(ctx, "/twilio/voice/status", form)
	c.Result = code
	if err != nil {
		return c, err
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	s.hub.notify()
	if code != http.StatusOK {
		return c, fmt.Errorf("sandbox: call status callback: Ringback answered %d", code)
	}
	return c, nil
}

// carrierReply is what Twilio itself answers to the standard opt-out and
// opt-in keywords ("" for anything else); Ringback sends nothing of its own
// for them.
func carrierReply(body string) string {
	switch strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!")) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT":
		return "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe."
	case "START", "YES", "UNSTOP":
		return "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
	}
	return ""
}

// sendSMS posts Twilio's incoming-message webhook for a text from the phone.
func (s *Sandbox) sendSMS(ctx context.Context, from, to, body string) (phoneMessage, error) {
	m := phoneMessage{SID: "SM" + randomHex(32), Dir: "in", Phone: from, Line: to, Body: body, At: s.opt.Clock.Now()}
	region := s.opt.Config.Business.Region
	form := url.Values{
		"MessageSid": {m.SID}, "SmsMessageSid": {m.SID}, "SmsSid": {m.SID}, "AccountSid": {s.opt.AccountSID},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"SmsStatus": {"received"}, "ApiVersion": {twilioAPIVersion}, "FromCountry": {region}, "ToCountry": {region},
	}
	code, err := s.postTwilio(ctx, "/twilio/sms", form)
	m.Status = "received"
	if err != nil || code != http.StatusOK {
		m.Status = fmt.Sprintf("failed (%d)", code)
	}
	s.mu.Lock()
	s.inbound = append(s.inbound, m)
	if reply := carrierReply(body); reply != "" && m.Status == "received" {
		s.inbound = append(s.inbound, phoneMessage{Dir: "carrier", Phone: from, Line: to, Body: reply, At: m.At, Status: "delivered"})
	}
	s.mu.Unlock()
	s.hub.notify()
	if err != nil {
		return m, err
	}
	if code != http.StatusOK {
		return m, fmt.Errorf("sandbox: incoming SMS webhook: Ringback answered %d", code)
	}
	return m, nil
}

// deliveryDelay is how long a text takes to reach the phone. A receipt
// much faster than that can beat Ringback's own record of the send, which
// then ignores it as unknown.
const deliveryDelay = time.Second

// deliver reports a text Ringback sent as delivered (or undelivered, when
// the page asked to fail the next delivery), shortly after it arrived,
// through the stand-in's signed status callback.
func (s *Sandbox) deliver(ctx context.Context, sid string, fail bool) {
	t := time.NewTimer(deliveryDelay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	status, code := "delivered", 0
	if fail {
		// Twilio's 30003: the handset is off or unreachable.
		status, code = "undelivered", 30003
	}
	if err := s.twilio.Deliver(sid, status, code); err != nil && ctx.Err() == nil {
		s.log.Warn("sandbox: delivery receipt not taken", "message_sid", sid, "error", err)
	}
	s.hub.notify()
}

// --- the page's phone ---

type callRequest struct {
	From     string `json:"from"`
	Withheld bool   `json:"withheld"`
	Line     string `json:"line"`
	// Status is the call's end: no-answer (default), busy, canceled, or
	// completed (answered, with Duration seconds).
	Status   string `json:"status"`
	Duration int    `json:"duration"`
}

// phoneNumber reads a number as the business's region does.
func (s *Sandbox) phoneNumber(raw string) (string, error) {
	n, err := config.Normalize(raw, s.opt.Config.Business.Region)
	if err != nil {
		return "", badRequest("%q is not a phone number", raw)
	}
	return n, nil
}

func (s *Sandbox) lineNumber(raw string) (string, error) {
	n, err := s.phoneNumber(raw)
	if err != nil {
		return "", err
	}
	if _, ok := s.opt.Config.LineByNumber(n); !ok {
		return "", badRequest("%s is not one of the business's lines", raw)
	}
	return n, nil
}

// phoneToLine reads the phone and the line of a call or text the page
// asks for (no phone when the number is withheld); on a bad one it has
// written the 400 and ok is false.
func (s *Sandbox) phoneToLine(w http.ResponseWriter, phone, line string, withheld bool) (from, to string, ok bool) {
	var err error
	if !withheld {
		if from, err = s.phoneNumber(phone); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return "", "", false
		}
	}
	if to, err = s.lineNumber(line); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return "", "", false
	}
	return from, to, true
}

// apiCall: "call and hang up" from the phone.
func (s *Sandbox) apiCall(w http.ResponseWriter, r *http.Request) {
	var req callRequest
	if !readJSON(w, r, &req) {
		return
	}
	from, to, ok := s.phoneToLine(w, req.From, req.Line, req.Withheld)
	if !ok {
		return
	}
	switch req.Status {
	case "":
		req.Status = "no-answer"
	case "no-answer", "busy", "canceled", "completed":
	default:
		writeError(w, http.StatusBadRequest, badRequest("status %q is not a call's end", req.Status))
		return
	}
	if req.Status != "completed" {
		req.Duration = 0
	}
	answerSent(w, r, func(ctx context.Context) (any, error) {
		return s.reportCall(ctx, from, to, req.Status, max(req.Duration, 0), s.opt.Clock.Now())
	})
}

type smsRequest struct {
	From string `json:"from"`
	Line string `json:"line"`
	Body string `json:"body"`
}

// apiSMS: a text from the phone to a line.
func (s *Sandbox) apiSMS(w http.ResponseWriter, r *http.Request) {
	var req smsRequest
	if !readJSON(w, r, &req) {
		return
	}
	from, to, ok := s.phoneToLine(w, req.From, req.Line, false)
	if !ok {
		return
	}
	body := strings.TrimSpace(req.Body)
	if body == "" || len([]rune(body)) > 1600 {
		writeError(w, http.StatusBadRequest, badRequest("a text has 1 to 1600 characters"))
		return
	}
	answerSent(w, r, func(ctx context.Context) (any, error) { return s.sendSMS(ctx, from, to, body) })
}

// phoneView is one phone's screen: its texts with every line, and its calls.
type phoneView struct {
	Number   string         `json:"number"`
	Label    string         `json:"label"`
	Messages []phoneMessage `json:"messages"`
	Calls    []phoneCall    `json:"calls"`
	last     time.Time
}

// phones gathers the texts Ringback sent (from the Twilio stand-in) and
// those the phones sent (kept here) per caller, most recently active first.
func (s *Sandbox) phones() []phoneView {
	sent := s.twilio.Messages()
	region := s.opt.Config.Business.Region
	s.mu.Lock()
	byNumber := map[string]*phoneView{}
	get := func(n string) *phoneView {
		p, ok := byNumber[n]
		if !ok {
			p = &phoneView{Number: n, Label: config.Format(n, region), Messages: []phoneMessage{}, Calls: []phoneCall{}}
			if n == "" {
				p.Label = "Withheld"
			}
			byNumber[n] = p
		}
		return p
	}
	for _, m := range sent {
		at, ok := s.seen[m.SID]
		if !ok {
			at = s.opt.Clock.Now()
		}
		status := m.Status
		if m.ErrorCode != 0 {
			status = fmt.Sprintf("%s (error %d)", status, m.ErrorCode)
		}
		p := get(m.To)
		p.Messages = append(p.Messages, phoneMessage{SID: m.SID, Dir: "out", Phone: m.To, Line: m.From, Body: m.Body, At: at, Status: status})
	}
	for _, m := range s.inbound {
		p := get(m.Phone)
		p.Messages = append(p.Messages, m)
	}
	for _, c := range s.calls {
		p := get(c.From)
		p.Calls = append(p.Calls, c)
	}
	s.mu.Unlock()
	out := make([]phoneView, 0, len(byNumber))
	for _, p := range byNumber {
		sort.SliceStable(p.Messages, func(i, j int) bool { return p.Messages[i].At.Before(p.Messages[j].At) })
		for _, m := range p.Messages {
			p.last = later(p.last, m.At)
		}
		for _, c := range p.Calls {
			p.last = later(p.last, c.At)
		}
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].last.After(out[j].last) })
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// --- the demo clock ---

type clockRequest struct {
	Advance string `json:"advance"` // a duration: 10m, 1h, 1d
	To      string `json:"to"`      // "monday": next Monday 08:00 in the business's time zone
}

type clockView struct {
	Now      time.Time `json:"now"`
	Local    string    `json:"local"`
	Weekday  string    `json:"weekday"`
	Timezone string    `json:"timezone"`
}

func (s *Sandbox) clockView() clockView {
	loc := s.location()
	now := s.opt.Clock.Now()
	l := now.In(loc)
	return clockView{Now: now, Local: l.Format("Mon 2 Jan 2006 15:04"), Weekday: l.Weekday().String(), Timezone: loc.String()}
}

func (s *Sandbox) location() *time.Location {
	if loc := s.opt.Config.Business.Timezone; loc != nil {
		return loc
	}
	return time.UTC
}

// nextMonday0800 is the first Monday 08:00 in loc after now.
func nextMonday0800(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	days := (int(time.Monday) - int(l.Weekday()) + 7) % 7
	t := time.Date(l.Year(), l.Month(), l.Day()+days, 8, 0, 0, 0, loc)
	if !t.After(now) {
		t = time.Date(l.Year(), l.Month(), l.Day()+days+7, 8, 0, 0, 0, loc)
	}
	return t
}

// apiClock moves the demo clock forward: the only hook the sandbox has
// into Ringback, so reminders and the digest can be seen without waiting.
func (s *Sandbox) apiClock(w http.ResponseWriter, r *http.Request) {
	var req clockRequest
	if !readJSON(w, r, &req) {
		return
	}
	now := s.opt.Clock.Now()
	var d time.Duration
	switch {
	case req.To == "monday":
		d = nextMonday0800(now, s.location()).Sub(now)
	case req.To != "":
		writeError(w, http.StatusBadRequest, badRequest("the clock only jumps to monday"))
		return
	default:
		var err error
		if d, err = config.ParseDuration(req.Advance); err != nil || d <= 0 || d > 8*24*time.Hour {
			writeError(w, http.StatusBadRequest, badRequest("advance by 1s to 8d, e.g. 10m, 1h, 1d"))
			return
		}
	}
	to := s.opt.Clock.Advance(d)
	s.log.Info("demo clock moved", "advance", d.Round(time.Second).String(), "now", to)
	s.hub.notify()
	writeJSON(w, http.StatusOK, s.clockView())
}
