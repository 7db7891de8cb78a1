package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"ringback/bot"
	"ringback/sms"
)

// Twilio serves Twilio's webhooks. Every request must carry a valid
// X-Twilio-Signature computed over PUBLIC_URL + path (+ query).
type Twilio struct {
	bot       *bot.Bot
	authToken string
	publicURL string
	log       *slog.Logger
}

// MountTwilio adds the Twilio endpoints of DESIGN.md.
func (s *Server) MountTwilio(b *bot.Bot, authToken, publicURL string) {
	s.twilio = &Twilio{bot: b, authToken: authToken, publicURL: strings.TrimRight(publicURL, "/"), log: s.log}
	s.mount(partTwilio)
}

// signed reads the form and refuses it unless Twilio signed it.
func (t *Twilio) signed(h func(w http.ResponseWriter, r *http.Request, form url.Values)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := ReadBody(w, r)
		if !ok {
			return
		}
		sig := r.Header.Get("X-Twilio-Signature")
		if t.authToken == "" || t.publicURL == "" {
			t.log.Error("twilio webhook refused: TWILIO_AUTH_TOKEN or PUBLIC_URL is not set", "path", r.URL.Path)
			http.Error(w, "webhook signatures cannot be checked", http.StatusForbidden)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			// Checked after the signature would need a form to sign; a body
			// that is no form cannot have been signed by Twilio either.
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		if sig == "" || !sms.ValidateSignature(t.authToken, t.publicURL+r.URL.RequestURI(), form, sig) {
			signatureRefused(r, "twilio")
			t.log.Info("twilio webhook refused: bad signature", "path", r.URL.Path, "signed", sig != "")
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		h(w, r, cleanForm(form))
	})
}

// fail answers an error from the bot: 400 for bad input, else 500 so that
// Twilio retries (nothing was committed).
func (t *Twilio) fail(w http.ResponseWriter, r *http.Request, err error) {
	if spoolUnavailable(r, err) {
		return // the store is unreachable: the spool acknowledges the webhook
	}
	if errors.Is(err, bot.ErrBadInput) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	t.log.Error("twilio webhook failed", "path", r.URL.Path, "error", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func require(w http.ResponseWriter, form url.Values, keys ...string) bool {
	for _, k := range keys {
		if form.Get(k) == "" {
			http.Error(w, "missing "+k, http.StatusBadRequest)
			return false
		}
	}
	return true
}

func writeTwiML(w http.ResponseWriter, verbs []twiml.Element) {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		http.Error(w, "twiml: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, doc)
}

func emptyTwiML(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
}

// voice answers Twilio's Voice URL with the bot's plan for the call, and
// the after-hours menu's choice (step=menu).
func (t *Twilio) voice(w http.ResponseWriter, r *http.Request, form url.Values) {
	if !require(w, form, "CallSid", "To") {
		return
	}
	route, err := t.bot.RouteCall(r.Context(), form.Get("CallSid"), form.Get("From"), form.Get("To"))
	if err != nil && !spoolUnavailable(r, err) { // unreachable store: route from the configuration alone
		t.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("step") == "menu" {
		t.render(w, route.MenuChoice(form.Get("Digits")))
		return
	}
	t.render(w, route.Answer())
}

// render writes a plan as TwiML: <Say> (inside a one-key <Gather> for a
// menu), <Dial> whose action reports how it ended, <Record> for voicemail.
func (t *Twilio) render(w http.ResponseWriter, p bot.VoicePlan) {
	var verbs []twiml.Element
	switch {
	case p.MenuKey != "":
		verbs = append(verbs, twiml.VoiceGather{
			NumDigits: strconv.Itoa(len(p.MenuKey)), Timeout: "5", Action: t.publicURL + "/twilio/voice?step=menu", Method: "POST",
			InnerElements: []twiml.Element{twiml.VoiceSay{Message: p.Say}},
		})
	case p.Say != "":
		verbs = append(verbs, twiml.VoiceSay{Message: p.Say})
	}
	if len(p.Ring) > 0 {
		var numbers []twiml.Element
		for _, n := range p.Ring {
			numbers = append(numbers, twiml.VoiceNumber{PhoneNumber: n})
		}
		verbs = append(verbs, twiml.VoiceDial{
			Action: t.publicURL + "/twilio/voice/status", Method: "POST", Timeout: strconv.Itoa(int(p.RingFor / time.Second)),
			InnerElements: numbers,
		})
	}
	if p.Voicemail {
		rec := t.publicURL + "/twilio/voice/recording"
		verbs = append(verbs,
			twiml.VoiceSay{Message: bot.VoicemailPrompt},
			twiml.VoiceRecord{
				Action: rec, Method: "POST", MaxLength: "120", PlayBeep: "true", Transcribe: "true",
				TranscribeCallback: rec, RecordingStatusCallback: rec,
			})
	}
	if p.HangUp {
		verbs = append(verbs, twiml.VoiceHangup{})
	}
	if len(verbs) == 0 {
		emptyTwiML(w)
		return
	}
	writeTwiML(w, verbs)
}

// voiceStatus takes call status callbacks and <Dial action> callbacks.
func (t *Twilio) voiceStatus(w http.ResponseWriter, r *http.Request, form url.Values) {
	if !require(w, form, "CallSid", "To") {
		return
	}
	if d := form.Get("Direction"); d != "" && d != "inbound" {
		emptyTwiML(w) // calls staff place are not callbacks to track
		return
	}
	report, err := twilioCall(form)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	dialStatus := form.Get("DialCallStatus")
	res, err := t.bot.ReportCall(r.Context(), report)
	if err != nil {
		t.fail(w, r, err)
		return
	}
	t.log.Info("call reported", "call_sid", report.SID, "status", report.Status, "missed", res.Missed, "case_id", res.CaseID, "new_case", res.NewCase, "routed", res.Routed)
	if dialStatus != "" {
		// The <Dial> ended and Twilio waits for what comes next.
		t.render(w, bot.AfterDial(report.Outcome))
		return
	}
	emptyTwiML(w)
}

// recording takes the <Record> action, the recording status callback and
// the transcription callback.
func (t *Twilio) recording(w http.ResponseWriter, r *http.Request, form url.Values) {
	if !require(w, form, "CallSid") {
		return
	}
	sid := form.Get("CallSid")
	recURL, transcript := form.Get("RecordingUrl"), form.Get("TranscriptionText")
	var err error
	if form.Get("To") != "" && form.Get("TranscriptionText") == "" && form.Get("RecordingStatus") == "" {
		// The <Record> action: the caller left a message (or hung up at the tone).
		_, err = t.bot.Voicemail(r.Context(), sid, form.Get("From"), form.Get("To"), recURL, transcript)
		if err == nil {
			t.render(w, bot.VoicemailTaken())
			return
		}
	} else {
		_, err = t.bot.AttachRecording(r.Context(), sid, recURL, transcript)
	}
	if err != nil {
		t.fail(w, r, err)
		return
	}
	emptyTwiML(w)
}

func (t *Twilio) incomingSMS(w http.ResponseWriter, r *http.Request, form url.Values) {
	if !require(w, form, "MessageSid", "From", "To") {
		return
	}
	in := twilioSMS(form)
	res, err := t.bot.ReceiveSMS(r.Context(), in)
	if err != nil {
		t.fail(w, r, err)
		return
	}
	t.log.Info("sms received", "message_sid", in.SID, "action", res.Action, "case_id", res.CaseID, "duplicate", res.Duplicate)
	// Replies go through the outbox, never in this response, so that each is
	// recorded and retried like any other text.
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
}

func (t *Twilio) smsStatus(w http.ResponseWriter, r *http.Request, form url.Values) {
	if !require(w, form, "MessageSid") {
		return
	}
	receipt, ok := sms.ReadReceipt(form)
	if !ok {
		http.Error(w, "missing MessageStatus", http.StatusBadRequest)
		return
	}
	known, err := t.bot.SMSStatus(r.Context(), receipt)
	if err != nil {
		t.fail(w, r, err)
		return
	}
	if !known {
		t.log.Info("delivery receipt for an unknown message", "message_sid", form.Get("MessageSid"))
	}
	w.WriteHeader(http.StatusNoContent)
}
