package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ringback/bot"
	"ringback/clean"
	"ringback/sms"
)

// Outside input is read here, apart from HTTP, so that each reader is a
// pure function the fuzz tests drive. Every text is cleaned (clean.Text)
// before the bot sees it, so both stores keep the same bytes; what cannot be
// made sane is an errBadRequest, answered 400.

// errBadRequest marks a reader's refusal: the sender must fix the request.
var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// maxMedia is how many attachments Twilio puts on one message; NumMedia
// above it is not believed.
const maxMedia = 10

// cleanForm cleans every key and value of a form whose signature was checked.
func cleanForm(form url.Values) url.Values {
	out := make(url.Values, len(form))
	for k, vs := range form {
		k = clean.Text(k)
		for _, v := range vs {
			out[k] = append(out[k], clean.Text(v))
		}
	}
	return out
}

// callSeconds reads Twilio's CallDuration: absent is 0, a number is
// bounded to 0..bot.MaxCallSeconds, anything else is refused.
func callSeconds(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: n holds the nearer bound
		return 0, badRequest("CallDuration %q is not a number", s)
	}
	return int(min(max(n, 0), bot.MaxCallSeconds)), nil
}

// twilioCall reads a Twilio call status callback or <Dial action> callback
// (CallSid and To present). Its Timestamp is when the callback was sent:
// the call started CallDuration before it.
func twilioCall(form url.Values) (bot.CallReport, error) {
	dur, err := callSeconds(form.Get("CallDuration"))
	if err != nil {
		return bot.CallReport{}, err
	}
	report := bot.CallReport{
		Provider: "twilio", SID: form.Get("CallSid"), From: form.Get("From"), To: form.Get("To"), Duration: dur,
	}
	if ts, err := time.Parse(time.RFC1123Z, form.Get("Timestamp")); err == nil {
		report.StartedAt = ts.Add(-time.Duration(dur) * time.Second) // bot.ReportedTime judges it
	}
	if dial := form.Get("DialCallStatus"); dial != "" {
		report.Status, report.Dialed = "dial:"+dial, true
		report.Outcome = sms.DialOutcome(dial)
		return report, nil
	}
	status := form.Get("CallStatus")
	if status == "" {
		return bot.CallReport{}, badRequest("missing CallStatus")
	}
	report.Status = status
	report.Outcome = sms.CallOutcome(status)
	return report, nil
}

// twilioSMS reads an incoming message webhook (MessageSid, From and To
// present); at most maxMedia attachments are read.
func twilioSMS(form url.Values) bot.InboundSMS {
	in := bot.InboundSMS{SID: form.Get("MessageSid"), From: form.Get("From"), To: form.Get("To"), Body: form.Get("Body")}
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	for i := range min(max(n, 0), maxMedia) {
		if u := form.Get("MediaUrl" + strconv.Itoa(i)); u != "" {
			in.MediaURLs = append(in.MediaURLs, u)
		}
	}
	return in
}

// genericCall reads the JSON body of POST /calls (its signature checked).
func genericCall(body []byte) (bot.CallReport, error) {
	var c GenericCall
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return bot.CallReport{}, badRequest("malformed JSON: %v", err)
	}
	for _, s := range []*string{&c.ID, &c.From, &c.To, &c.Status, &c.VoicemailURL, &c.Transcript} {
		*s = clean.Text(*s)
	}
	outcome, ok := bot.CallStatusOutcome(c.Status) // the words an imported call log is read by too
	switch {
	case c.ID == "":
		return bot.CallReport{}, badRequest("id is required")
	case c.To == "":
		return bot.CallReport{}, badRequest("to is required")
	case !ok:
		return bot.CallReport{}, badRequest("status %q is not missed, busy, voicemail or answered", c.Status)
	}
	return bot.CallReport{
		Provider: "generic", SID: "generic:" + c.ID, From: c.From, To: c.To, Status: c.Status,
		Outcome: outcome, StartedAt: c.StartedAt, VoicemailURL: c.VoicemailURL, Transcript: c.Transcript,
	}, nil
}
