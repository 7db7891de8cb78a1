package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ringback/bot"
)

// SignatureHeader carries the generic webhook's HMAC.
const SignatureHeader = "X-Ringback-Signature"

// signatureWindow is how old a signed request may be: older is a replay.
const signatureWindow = 5 * time.Minute

// GenericCall is the JSON a non-Twilio phone system posts to /calls.
type GenericCall struct {
	ID           string    `json:"id"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	StartedAt    time.Time `json:"started_at"`
	Status       string    `json:"status"`
	VoicemailURL string    `json:"voicemail_url"`
	Transcript   string    `json:"transcript"`
}

// MountCalls adds POST /calls for other phone systems.
func (s *Server) MountCalls(b *bot.Bot, secret string, now func() time.Time) {
	s.calls = &genericCalls{bot: b, secret: secret, now: now, log: s.log}
	s.mount(partCalls)
}

type genericCalls struct {
	bot    *bot.Bot
	secret string
	now    func() time.Time
	log    *slog.Logger
}

func (g *genericCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := ReadBody(w, r)
	if !ok {
		return
	}
	if g.secret == "" {
		g.log.Error("generic call webhook refused: RINGBACK_WEBHOOK_SECRET is not set")
		http.Error(w, "webhook signatures cannot be checked", http.StatusForbidden)
		return
	}
	if err := VerifySignature(g.secret, r.Header.Get(SignatureHeader), body, g.now()); err != nil {
		signatureRefused(r, "calls")
		g.log.Info("generic call webhook refused", "reason", err.Error())
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	report, err := genericCall(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := g.bot.ReportCall(r.Context(), report)
	if errors.Is(err, bot.ErrBadInput) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err != nil && spoolUnavailable(r, err) {
		return // the store is unreachable: the spool acknowledges the webhook
	}
	if err != nil {
		g.log.Error("generic call webhook failed", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"case_id": res.CaseID, "new_case": res.NewCase, "missed": res.Missed, "routed": res.Routed})
}

// SignGeneric returns the X-Ringback-Signature header for body at time t.
func SignGeneric(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a `t=<unix>,v1=<hex>` header over body: the HMAC
// must match and t must be within five minutes of now.
func VerifySignature(secret, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return errors.New("missing or malformed " + SignatureHeader)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("malformed signature timestamp")
	}
	if age := now.Sub(time.Unix(unix, 0)); age > signatureWindow || age < -signatureWindow {
		return errors.New("signature timestamp outside the 5-minute window")
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("signature does not match")
}
