package sandbox

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type voicemailRequest struct {
	From string `json:"from"`
	Line string `json:"line"`
	// Transcript is what the caller says; Twilio's transcription sends it.
	Transcript string `json:"transcript"`
}

// voicemailSeconds is how long the demo's messages last.
const voicemailSeconds = 6

// apiVoicemail: the phone calls, nobody answers, and the caller leaves a
// message, through the webhooks Twilio sends for it: the Voice URL, the
// <Dial> action when Ringback rang staff, the <Record> action, the call's
// status callback, and the transcription callback.
func (s *Sandbox) apiVoicemail(w http.ResponseWriter, r *http.Request) {
	var req voicemailRequest
	if !readJSON(w, r, &req) {
		return
	}
	from, to, ok := s.phoneToLine(w, req.From, req.Line, false)
	if !ok {
		return
	}
	text := strings.TrimSpace(req.Transcript)
	if text == "" {
		text = "Hi, it's about the boiler at flat 4, it's making a banging noise again. Please call me back when you can."
	}
	if len([]rune(text)) > 1000 {
		writeError(w, http.StatusBadRequest, badRequest("a transcript has at most 1000 characters"))
		return
	}
	answerSent(w, r, func(ctx context.Context) (any, error) { return s.leaveVoicemail(ctx, from, to, text) })
}

func (s *Sandbox) leaveVoicemail(ctx context.Context, from, to, transcript string) (phoneCall, error) {
	c := phoneCall{SID: "CA" + randomHex(32), From: from, To: to, Status: "voicemail", Duration: voicemailSeconds + 10, At: s.opt.Clock.Now()}
	base := url.Values{
		"AccountSid": {s.opt.AccountSID}, "ApiVersion": {twilioAPIVersion}, "CallSid": {c.SID}, "Direction": {"inbound"},
		"From": {from}, "Caller": {from}, "To": {to}, "Called": {to},
	}
	with := func(kv ...string) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	post := func(path string, form url.Values) ([]byte, error) {
		code, body, err := s.postTwilioRead(ctx, path, form)
		c.Result = code
		if err == nil && code != http.StatusOK && code != http.StatusNoContent {
			err = fmt.Errorf("sandbox: %s: Ringback answered %d", path, code)
		}
		return body, err
	}
	twiml, err := post("/twilio/voice", with("CallStatus", "ringing"))
	if err != nil {
		return c, err
	}
	if bytes.Contains(twiml, []byte("<Dial")) {
		// Nobody picks up: the <Dial> ends and Ringback says what is next.
		if twiml, err = post("/twilio/voice/status", with("CallStatus", "in-progress", "DialCallStatus", "no-answer", "DialCallDuration", "0")); err != nil {
			return c, err
		}
	}
	if !bytes.Contains(twiml, []byte("<Record")) {
		return c, badRequest("this line takes no voicemail now (Ringback's answer has no <Record>)")
	}
	recSID := "RE" + randomHex(32)
	recURL := s.opt.BaseURL + "/sandbox/recordings/" + recSID
	dur := strconv.Itoa(voicemailSeconds)
	if _, err := post("/twilio/voice/recording", with("CallStatus", "completed", "RecordingSid", recSID, "RecordingUrl", recURL, "RecordingDuration", dur, "Digits", "hangup")); err != nil {
		return c, err
	}
	if _, err := post("/twilio/voice/status", with("CallStatus", "completed", "CallDuration", strconv.Itoa(c.Duration), "Timestamp", c.At.UTC().Format(time.RFC1123Z), "CallbackSource", "call-progress-events", "SequenceNumber", "0")); err != nil {
		return c, err
	}
	if _, err := post("/twilio/voice/recording", with("CallStatus", "completed", "RecordingSid", recSID, "RecordingUrl", recURL,
		"TranscriptionSid", "TR"+randomHex(32), "TranscriptionStatus", "completed", "TranscriptionText", transcript,
		"TranscriptionUrl", s.opt.BaseURL+"/sandbox/recordings/"+recSID+"/transcription")); err != nil {
		return c, err
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	s.hub.notify()
	return c, nil
}

// serveRecording plays a voicemail's recording: a few seconds of silence,
// standing in for Twilio's media URL.
func (s *Sandbox) serveRecording(w http.ResponseWriter, r *http.Request) {
	const rate = 8000
	n := voicemailSeconds * rate
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+n))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, struct {
		Size               uint32
		Format, Channels   uint16
		Rate, ByteRate     uint32
		Align, BitsPerSamp uint16
	}{16, 1, 1, rate, rate, 1, 8})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(n))
	b.Write(bytes.Repeat([]byte{128}, n)) // 8-bit PCM silence
	w.Header().Set("Content-Type", "audio/wav")
	w.Write(b.Bytes())
}

// apiFailNext makes the next text Ringback sends come back undelivered.
func (s *Sandbox) apiFailNext(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.failNext = true
	s.mu.Unlock()
	s.hub.notify()
	writeJSON(w, http.StatusOK, map[string]bool{"fail_next": true})
}
