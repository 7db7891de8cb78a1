package sandbox

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"ringback/bot"
	rbslack "ringback/bot/slack"
	"ringback/config"
	"ringback/sms"
)

func exampleConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "testdata", "ringback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const (
	testSecret = "slack-signing-secret"
	testSID    = "AC0123456789abcdef0123456789abcdef"
	testToken  = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
)

// newTestSandbox builds a sandbox whose "Ringback" is fake: it checks the
// signatures of what it receives and records the requests.
func newTestSandbox(t *testing.T) (*Sandbox, *recorder) {
	t.Helper()
	rec := &recorder{t: t}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	rec.base = ts.URL
	s, err := New(Options{
		BaseURL: ts.URL, Config: exampleConfig(t), Clock: bot.NewOffsetClock(),
		SlackToken: "xoxb-test", SigningSecret: testSecret, AccountSID: testSID, AuthToken: testToken,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, rec
}

// recorder stands in for Ringback: it refuses what is not signed as Slack
// or Twilio sign, and keeps the forms it accepted.
type recorder struct {
	t    *testing.T
	base string
	mu   sync.Mutex
	got  []recorded
}

type recorded struct {
	path string
	form url.Values
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	switch {
	case strings.HasPrefix(r.URL.Path, "/slack/"):
		sv, err := slack.NewSecretsVerifier(r.Header, testSecret)
		if err == nil {
			sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	case strings.HasPrefix(r.URL.Path, "/twilio/"):
		if !sms.ValidateSignature(testToken, rec.base+r.URL.Path, form, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
	}
	rec.mu.Lock()
	rec.got = append(rec.got, recorded{r.URL.Path, form})
	rec.mu.Unlock()
	if r.URL.Path == "/slack/commands" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"response_type":"ephemeral","text":"*Open callbacks* — 0 open"}`)
	}
}

func (rec *recorder) last(t *testing.T) recorded {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) == 0 {
		t.Fatal("nothing reached Ringback")
	}
	return rec.got[len(rec.got)-1]
}

// Every request the sandbox sends carries the signature Ringback checks,
// and the fields Twilio's and Slack's requests have.
func TestRequestsAreSignedAndShapedLikeTheRealOnes(t *testing.T) {
	s, rec := newTestSandbox(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 16, 12, 30, 0, 0, time.UTC)
	c, err := s.reportCall(ctx, "+447700900123", "+441632960001", "no-answer", 0, at)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	f := rec.last(t).form
	if rec.last(t).path != "/twilio/voice/status" || f.Get("CallSid") != c.SID || !strings.HasPrefix(c.SID, "CA") || len(c.SID) != 34 ||
		f.Get("CallStatus") != "no-answer" || f.Get("Direction") != "inbound" || f.Get("AccountSid") != testSID || f.Get("CallDuration") != "0" {
		t.Errorf("status callback form = %v", f)
	}
	if ts, err := time.Parse(time.RFC1123Z, f.Get("Timestamp")); err != nil || !ts.Equal(at) {
		t.Errorf("Timestamp %q: %v", f.Get("Timestamp"), err)
	}
	if _, err := s.reportCall(ctx, "", "+441632960001", "busy", 0, at); err != nil || rec.last(t).form.Get("From") != withheldFrom {
		t.Errorf("withheld call: %v, From %q", err, rec.last(t).form.Get("From"))
	}
	m, err := s.sendSMS(ctx, "+447700900123", "+441632960001", "STOP")
	if err != nil || m.Status != "received" {
		t.Fatalf("sms: %v %+v", err, m)
	}
	f = rec.last(t).form
	if f.Get("MessageSid") != m.SID || f.Get("Body") != "STOP" || f.Get("NumMedia") != "0" || f.Get("From") != "+447700900123" {
		t.Errorf("incoming SMS form = %v", f)
	}
	phones := s.phones()
	if len(phones) == 0 || len(phones[0].Messages) != 2 || phones[0].Messages[1].Dir != "carrier" {
		t.Errorf("a STOP shows the carrier's own reply on the phone: %+v", phones)
	}

	status, _, err := s.postSlack(ctx, "/slack/commands", url.Values{"command": {"/callbacks"}})
	if err != nil || status != http.StatusOK {
		t.Fatalf("signed Slack request refused: %d %v", status, err)
	}
	s.opt.SigningSecret = "wrong"
	if status, _, _ := s.postSlack(ctx, "/slack/commands", url.Values{}); status != http.StatusUnauthorized {
		t.Errorf("the fake Ringback accepted a wrong signature: %d", status)
	}
}

// A click is a block_actions payload that slack-go (and so Ringback) reads
// back as the same action; a stale click carries what the page showed.
func TestClickPayloads(t *testing.T) {
	card := bot.Card{CaseID: 7, Ref: "#7", State: "open", Line: "Lettings", Actions: []string{bot.ActionClaim, bot.ActionReply, bot.ActionSpam}, Now: time.Now()}
	blocks, err := json.Marshal(rbslack.CardBlocks(card))
	if err != nil {
		t.Fatal(err)
	}
	el, err := findElement(blocks, "case:7", "claim")
	if err != nil {
		t.Fatal(err)
	}
	click, err := actionOf(el, "case:7", "")
	if err != nil {
		t.Fatal(err)
	}
	stale, err := staleAction(actionRequest{BlockID: "case:7", ActionID: "release", Type: "button", Value: "7", Text: "Release"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []map[string]any{click, stale} {
		raw, _ := json.Marshal(map[string]any{"type": "block_actions", "actions": []any{a}, "user": map[string]any{"id": "U0ALICE"}})
		var cb slack.InteractionCallback
		if err := json.Unmarshal(raw, &cb); err != nil {
			t.Fatal(err)
		}
		got := cb.ActionCallback.BlockActions
		if len(got) != 1 || got[0].Value != "7" || got[0].BlockID != "case:7" || got[0].ActionTs == "" {
			t.Errorf("action read back as %+v", got)
		}
	}
	if _, err := findElement(blocks, "case:7", "close"); err == nil {
		t.Error("found a button the card does not have")
	}

	// A manager's Reassign is a users_select: Slack sends selected_user.
	card.Actions = []string{bot.ActionRelease, bot.ActionReassign}
	card.Owner = "U0ALICE"
	blocks, _ = json.Marshal(rbslack.CardBlocks(card))
	el, err = findElement(blocks, "case:7", bot.ActionReassign)
	if err != nil {
		t.Fatal(err)
	}
	pick, err := actionOf(el, "case:7", "U0BOB")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"type": "block_actions", "actions": []any{pick}})
	var cb slack.InteractionCallback
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatal(err)
	}
	if a := cb.ActionCallback.BlockActions; len(a) != 1 || a[0].SelectedUser != "U0BOB" || a[0].Type != "users_select" || a[0].InitialUser != "U0ALICE" {
		t.Errorf("reassign read back as %+v", a[0])
	}
}

// state.values are shaped as Slack shapes them, so the bot's reading of a
// submission (values[block][block]) finds what the page entered.
func TestViewStateMatchesSlack(t *testing.T) {
	card := bot.Card{CaseID: 7, Ref: "#7", Line: "Lettings", Caller: bot.Caller{Number: "07700 900123"}}
	view := func(v slack.ModalViewRequest) json.RawMessage {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	closeModal := view(rbslack.CloseModal(card))

	_, missing, err := viewState(closeModal, map[string]map[string]string{"outcome": {"outcome": "booked"}})
	if err != nil || missing["note"] != requiredField || len(missing) != 1 {
		t.Errorf("a required note left empty: missing %v, %v", missing, err)
	}
	if _, _, err := viewState(closeModal, map[string]map[string]string{"outcome": {"outcome": "bribed"}}); err == nil {
		t.Error("an option the select does not offer was accepted")
	}
	state, missing, err := viewState(closeModal, map[string]map[string]string{"outcome": {"outcome": "booked"}, "note": {"note": "Viewing Thu 2pm\n"}})
	if err != nil || len(missing) != 0 {
		t.Fatal(missing, err)
	}
	payload := map[string]any{"type": "view_submission", "view": map[string]any{"id": "V1", "callback_id": "close", "state": state}}
	raw, _ := json.Marshal(payload)
	var cb slack.InteractionCallback
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatal(err)
	}
	vals := cb.View.State.Values
	if vals["outcome"]["outcome"].SelectedOption.Value != "booked" || vals["note"]["note"].Value != "Viewing Thu 2pm" || vals["outcome"]["outcome"].Type != "static_select" {
		t.Errorf("state read back as %+v", vals)
	}

	// The Log callback note is optional: empty is sent as null.
	state, missing, err = viewState(view(rbslack.LogModal(card)), map[string]map[string]string{"result": {"result": "no_answer"}})
	if err != nil || len(missing) != 0 {
		t.Fatal(missing, err)
	}
	if note := state["values"].(map[string]any)["note"].(map[string]any)["note"].(map[string]any); note["value"] != nil {
		t.Errorf("empty optional note = %v", note)
	}

	// In the caller's quiet hours the Reply modal asks when, with radio
	// buttons: required, read back as Slack sends them.
	choices := []bot.TemplateChoice{{Key: "callback_missed", Preview: "Sorry we missed you"}}
	timing := bot.ReplyTiming{Quiet: true, CallerNow: time.Date(2026, 11, 16, 20, 30, 0, 0, time.UTC), SendAt: time.Date(2026, 11, 17, 8, 0, 0, 0, time.UTC), Window: "08:00–20:00"}
	reply := view(rbslack.ReplyModal(card, choices, "callback_missed", timing))
	if _, missing, err = viewState(reply, map[string]map[string]string{"template": {"template": "callback_missed"}}); err != nil || missing[rbslack.BlockWhen] != requiredField {
		t.Errorf("when left empty: missing %v, %v", missing, err)
	}
	state, _, err = viewState(reply, map[string]map[string]string{"template": {"template": "callback_missed"}, "when": {"when": bot.ReplyLater}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = json.Marshal(map[string]any{"type": "view_submission", "view": map[string]any{"id": "V2", "callback_id": "reply", "state": state}})
	cb = slack.InteractionCallback{}
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatal(err)
	}
	if when := cb.View.State.Values[rbslack.BlockWhen][rbslack.BlockWhen]; when.SelectedOption.Value != bot.ReplyLater || when.Type != "radio_buttons" {
		t.Errorf("when read back as %+v", when)
	}
}

func TestNextMonday0800(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC), time.Date(2026, 11, 23, 8, 0, 0, 0, london)},  // Saturday
		{time.Date(2026, 11, 23, 7, 59, 0, 0, london), time.Date(2026, 11, 23, 8, 0, 0, 0, london)},    // Monday before 8
		{time.Date(2026, 11, 23, 8, 0, 0, 0, london), time.Date(2026, 11, 30, 8, 0, 0, 0, london)},     // Monday at 8
		{time.Date(2026, 3, 29, 12, 0, 0, 0, london), time.Date(2026, 3, 30, 8, 0, 0, 0, london)},      // clocks went forward
		{time.Date(2026, 3, 30, 6, 30, 0, 0, time.UTC), time.Date(2026, 3, 30, 8, 0, 0, 0, london)},    // 07:30 BST
		{time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), time.Date(2026, 11, 23, 8, 0, 0, 0, london)}, // Sunday night
	} {
		if got := nextMonday0800(tc.now, london); !got.Equal(tc.want) {
			t.Errorf("nextMonday0800(%s) = %s, want %s", tc.now, got.In(london), tc.want)
		}
	}
}

// The replayed day looks like a real one for a letting agency.
// The replay plays a day whose calls are all ahead of the clock: today
// before 08:00, else tomorrow.
func TestReplayDay(t *testing.T) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	for now, want := range map[string]string{
		"2026-12-01 07:59": "2026-12-01", "2026-12-01 08:00": "2026-12-02", "2026-12-01 14:22": "2026-12-02", "2026-12-31 23:00": "2027-01-01",
	} {
		n, _ := time.ParseInLocation("2006-01-02 15:04", now, loc)
		if got := replayDay(n.UTC(), loc); got.Format(time.DateOnly) != want || got.Hour() != 0 || got.Location() != loc {
			t.Errorf("replayDay(%s) = %s, want %s 00:00", now, got, want)
		}
	}
}

func TestPlanBusyDay(t *testing.T) {
	cfg := exampleConfig(t)
	loc := cfg.Business.Timezone
	day := time.Date(2026, 11, 16, 0, 0, 0, 0, loc)
	maint := cfg.Lines[1].Number
	for seed := range uint64(25) {
		steps := planBusyDay(day, cfg, rand.New(rand.NewPCG(seed, seed)))
		calls, perHour := 0, map[int]int{}
		byCaller := map[string]int{}
		withheld, answered, stops, nines := 0, 0, 0, 0
		for i, st := range steps {
			if i > 0 && st.At.Before(steps[i-1].At) {
				t.Fatalf("seed %d: steps out of order at %d", seed, i)
			}
			switch st.Kind {
			case "call":
				calls++
				h := st.At.In(loc).Hour()
				if h < 8 || h >= 20 {
					t.Errorf("seed %d: call at %s", seed, st.At.In(loc))
				}
				perHour[h]++
				if st.From == "" {
					withheld++
				} else {
					byCaller[st.From]++
				}
				if st.Status == "completed" {
					answered++
				}
			case "sms":
				if st.From == "" {
					t.Errorf("seed %d: a withheld caller texted", seed)
				}
				switch st.Body {
				case "STOP":
					stops++
				case "9":
					nines++
					if st.Line != maint {
						t.Errorf("seed %d: the urgent 9 came on %s", seed, st.Line)
					}
				}
			}
		}
		repeats := 0
		for _, n := range byCaller {
			if n > 1 {
				repeats++
			}
		}
		peak := float64(perHour[12]+perHour[13]+perHour[17]+perHour[18]) / 4
		quiet := float64(perHour[9]+perHour[10]+perHour[11]+perHour[14]+perHour[15]+perHour[16]) / 6
		if calls < 70 || calls > 110 || withheld < 3 || withheld > 5 || answered < 5 || repeats < 2 || stops != 3 || nines != 1 || peak < 1.5*quiet {
			t.Errorf("seed %d: %d calls (%d withheld, %d answered, %d repeat callers), %d STOPs, %d nines, peak %.1f/h vs %.1f/h",
				seed, calls, withheld, answered, repeats, stops, nines, peak, quiet)
		}
	}
}

// The page's event stream says "change" at once (so a reconnecting page
// catches up) and after every change.
// serveSandbox serves a test sandbox's routes over real HTTP until the test
// ends.
func serveSandbox(t *testing.T) (*Sandbox, *httptest.Server) {
	s, _ := newTestSandbox(t)
	mux := http.NewServeMux()
	s.Mount(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return s, ts
}

func TestEventStream(t *testing.T) {
	s, ts := serveSandbox(t)
	res, err := http.Get(ts.URL + "/sandbox/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: ") {
				events <- sc.Text()
			}
		}
		close(events)
	}()
	next := func() string {
		select {
		case e := <-events:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return ""
	}
	if e := next(); e != "event: change" {
		t.Fatalf("first event %q", e)
	}
	resp, err := http.Post(ts.URL+"/sandbox/api/clock", "application/json", strings.NewReader(`{"advance":"10m"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("clock: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if e := next(); e != "event: change" {
		t.Fatalf("after a change: %q", e)
	}
	s.Close() // the demo stopping ends the stream, so the server can drain
	for range events {
	}
}

// The page is served with a policy that forbids inline script, and the
// static files it needs are embedded.
func TestPageIsEmbedded(t *testing.T) {
	_, ts := serveSandbox(t)
	for _, path := range []string{"/", "/sandbox/static/app.js", "/sandbox/static/mrkdwn.js", "/sandbox/static/app.css"} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(body) < 500 {
			t.Errorf("%s: %d, %d bytes", path, res.StatusCode, len(body))
		}
		if path == "/" && !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("page CSP = %q", res.Header.Get("Content-Security-Policy"))
		}
	}
	// The page never parses received text as HTML.
	for _, name := range []string{"static/app.js", "static/mrkdwn.js"} {
		src, _ := static.ReadFile(name)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

// A possible opt-out's buttons are on the card as the page draws it, and a
// click on each reads back as the bot's action on the case; Opt out asks
// for confirmation first, as in Slack.
func TestPossibleOptOutButtons(t *testing.T) {
	card := bot.Card{CaseID: 7, Ref: "#7", State: "open", Line: "Lettings", PossibleOptOut: "wrong number",
		Actions: []string{bot.ActionOptOut, bot.ActionNotOptOut, bot.ActionClaim}, Now: time.Now()}
	blocks, err := json.Marshal(rbslack.CardBlocks(card))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{bot.ActionOptOut, bot.ActionNotOptOut} {
		el, err := findElement(blocks, "case:7", id)
		if err != nil {
			t.Fatal(err)
		}
		if _, asks := el["confirm"]; asks != (id == bot.ActionOptOut) {
			t.Errorf("%s: confirmation dialog %v", id, asks)
		}
		a, err := actionOf(el, "case:7", "")
		if err != nil || a["action_id"] != id || a["value"] != "7" {
			t.Errorf("%s click: %v %v", id, a, err)
		}
	}
}
