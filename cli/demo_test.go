package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ringback/bot"
	"ringback/store"
)

// syncBuffer collects the demo's log for a failing test's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTestDemo runs `ringback demo` in-process on a free port, with the
// tests' config, on a fresh temp database, and checks that it stops
// cleanly and leaves no database behind.
func startTestDemo(t testing.TB) *runningDemo {
	t.Helper()
	logs := &syncBuffer{}
	a := testApp(func(string) string { return "" }, logs)
	ctx, cancel := context.WithCancel(context.Background())
	d, err := a.startDemo(ctx, demoOptions{addr: "127.0.0.1:0", config: filepath.Join("..", "testdata", "ringback.yaml")})
	if err != nil {
		cancel()
		t.Fatalf("start demo: %v", err)
	}
	t.Cleanup(func() {
		cancel() // Ctrl-C
		stopsWithin(t, d.wait, 30*time.Second, "the demo")
		if _, err := os.Stat(d.tmpDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the demo database %s is still there: %v", d.tmpDir, err)
		}
		if t.Failed() {
			t.Logf("demo log:\n%s", logs.String())
		}
	})
	return d
}

// duringOpenHours moves the demo's clock, which starts at the real time,
// to the next weekday 10:00 in the business's zone unless it is a weekday
// between 10:00 and 16:00 there already: a test that replies to a caller
// must not meet quiet hours (from 21:00 the Reply modal asks when to send)
// or the night text-back because CI ran in the evening.
func duringOpenHours(t testing.TB, d *runningDemo) {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London") // testdata/ringback.yaml's business
	if err != nil {
		t.Fatal(err)
	}
	now := d.clock.Now().In(loc)
	if wd := now.Weekday(); wd != time.Saturday && wd != time.Sunday && now.Hour() >= 10 && now.Hour() < 16 {
		return
	}
	at := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, loc)
	for !at.After(now) || at.Weekday() == time.Saturday || at.Weekday() == time.Sunday {
		at = time.Date(at.Year(), at.Month(), at.Day()+1, 10, 0, 0, 0, loc)
	}
	d.clock.Advance(at.Sub(now))
}

// sandboxClient drives the sandbox's JSON API as the page does.
type sandboxClient struct {
	t    testing.TB
	base string
}

func (c *sandboxClient) post(path string, body any, out any) int {
	c.t.Helper()
	raw, _ := json.Marshal(body)
	res, err := http.Post(c.base+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("POST %s: %d %s: %v", path, res.StatusCode, data, err)
		}
	}
	return res.StatusCode
}

// The parts of /sandbox/state the tests read.
type demoState struct {
	Me       struct{ ID string }
	Channels []struct {
		ID       string
		Messages []demoMessage
	}
	View *struct {
		ID         string
		Hash       string
		CallbackID string `json:"callback_id"`
		View       json.RawMessage
	}
	Ephemerals []struct {
		Channel, User, Text, Source, Typed string
		Blocks                             json.RawMessage
	}
	Phones []struct {
		Number   string
		Messages []struct{ Dir, Body, Status, Line string }
	}
	Clock struct {
		Now   time.Time
		Local string
	}
	FailNext bool `json:"fail_next"`
	BusyDay  struct {
		Running, Finished                         bool
		Total, Done, Calls, Missed, Texts, Errors int
	} `json:"busy_day"`
}

type demoMessage struct {
	TS      string
	Text    string
	Blocks  json.RawMessage
	Updates int
	Replies []demoMessage
}

func (c *sandboxClient) state(user string) demoState {
	c.t.Helper()
	res, err := http.Get(c.base + "/sandbox/state?user=" + user)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var st demoState
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		c.t.Fatal(err)
	}
	return st
}

// stateBytes reads the state as the page does, since a version: the raw
// answer and the version to ask from next.
func (c *sandboxClient) stateBytes(user string, since int64) ([]byte, int64) {
	c.t.Helper()
	res, err := http.Get(c.base + "/sandbox/state?user=" + user + "&since=" + strconv.FormatInt(since, 10))
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v struct{ Version int64 }
	if err := json.Unmarshal(raw, &v); err != nil || v.Version == 0 {
		c.t.Fatalf("state since %d: %v %.200s", since, err, raw)
	}
	return raw, v.Version
}

// waitFor polls the state until cond holds, for up to 15 s.
func (c *sandboxClient) waitFor(user, what string, cond func(st demoState) bool) demoState {
	c.t.Helper()
	return c.waitUntil(time.Now().Add(15*time.Second), 50*time.Millisecond, user, what, cond)
}

// waitUntil polls the state every poll until cond holds or deadline passes.
func (c *sandboxClient) waitUntil(deadline time.Time, poll time.Duration, user, what string, cond func(st demoState) bool) demoState {
	c.t.Helper()
	for {
		st := c.state(user)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			raw, _ := json.MarshalIndent(st, "", " ")
			c.t.Fatalf("timed out waiting for %s; state:\n%.6000s", what, raw)
		}
		time.Sleep(poll)
	}
}

func (st demoState) channel(id string) []demoMessage {
	for _, ch := range st.Channels {
		if ch.ID == id {
			return ch.Messages
		}
	}
	return nil
}

// cards are a channel's case cards: its messages with buttons (the channel
// may also hold the day's queue check, when the demo starts after 08:45).
func (st demoState) cards(id string) []demoMessage {
	var out []demoMessage
	for _, m := range st.channel(id) {
		if len(m.buttons()) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// buttons are the action ids of a message's buttons, in order.
func (m demoMessage) buttons() []string {
	var blocks []struct {
		Type     string
		Elements []struct {
			ActionID string `json:"action_id"`
		}
	}
	json.Unmarshal(m.Blocks, &blocks)
	var ids []string
	for _, b := range blocks {
		if b.Type == "actions" {
			for _, e := range b.Elements {
				ids = append(ids, e.ActionID)
			}
		}
	}
	return ids
}

func (m demoMessage) thread() string {
	var parts []string
	for _, r := range m.Replies {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, "\n")
}

const (
	demoCaller   = "+447700900123"
	lettingsLine = "+441632960001"
)

type slackAnswer struct {
	Status   int
	Response json.RawMessage
	Errors   map[string]string
	Closed   bool
}

// The sandbox's JSON API, driven as the page drives it, takes a missed call
// through Ringback's real endpoints to a closed case.
func TestDemoSandboxFlow(t *testing.T) {
	d := startTestDemo(t)
	duringOpenHours(t, d)
	c := &sandboxClient{t: t, base: d.url}

	res, err := http.Get(d.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "Ringback sandbox") {
		t.Fatalf("GET / = %d", res.StatusCode)
	}

	// Missed call → a card in #lettings with the text-back on the phone.
	var call struct {
		SID    string
		Result int
	}
	if code := c.post("/sandbox/api/phone/call", map[string]any{"from": "07700 900123", "line": lettingsLine}, &call); code != 200 || call.Result != 200 {
		t.Fatalf("call: %d %+v", code, call)
	}
	st := c.waitFor("U0ALICE", "the card", func(st demoState) bool {
		msgs := st.cards("C0LETTINGS")
		return len(msgs) == 1 && strings.HasPrefix(strings.Join(msgs[0].buttons(), ","), "claim,reply,log_callback,close,spam")
	})
	card := st.cards("C0LETTINGS")[0]
	click := func(user, action string) slackAnswer {
		t.Helper()
		var a slackAnswer
		if code := c.post("/sandbox/api/slack/action", map[string]any{"user": user, "channel": "C0LETTINGS", "ts": card.TS, "block_id": "case:1", "action_id": action, "type": "button", "value": "1", "text": action}, &a); code != 200 || a.Status != 200 {
			t.Fatalf("%s clicks %s: %d %+v", user, action, code, a)
		}
		return a
	}

	// Claim as Alice → owner on the card; Bob's later click loses the race.
	click("U0ALICE", "claim")
	c.waitFor("U0ALICE", "Alice as owner", func(st demoState) bool {
		m := st.cards("C0LETTINGS")[0]
		return strings.Contains(string(m.Blocks), `*Owner*\n\u003c@U0ALICE\u003e`) && m.buttons()[0] == "release"
	})
	click("U0BOB", "claim") // the button Bob's screen still showed
	c.waitFor("U0BOB", "Bob's refusal", func(st demoState) bool {
		for _, e := range st.Ephemerals {
			if e.Source == "ephemeral" && strings.Contains(e.Text, "already claimed by <@U0ALICE>") {
				return true
			}
		}
		return false
	})

	// Reply: the modal, a live preview after choosing a template, submit.
	click("U0ALICE", "reply")
	st = c.state("U0ALICE")
	if st.View == nil || st.View.CallbackID != "reply" {
		t.Fatalf("no Reply modal: %+v", st.View)
	}
	if c.state("U0BOB").View != nil {
		t.Fatal("Alice's modal shows for Bob")
	}
	view := st.View
	var a slackAnswer
	c.post("/sandbox/api/slack/view/action", map[string]any{"user": "U0ALICE", "view_id": view.ID, "block_id": "template", "action_id": "template", "value": "callback_missed"}, &a)
	if a.Status != 200 {
		t.Fatalf("preview: %+v", a)
	}
	st = c.waitFor("U0ALICE", "the preview", func(st demoState) bool {
		return st.View != nil && st.View.Hash != view.Hash && strings.Contains(string(st.View.View), "Alice tried to call you back")
	})
	c.post("/sandbox/api/slack/view/submit", map[string]any{"user": "U0ALICE", "view_id": st.View.ID, "values": map[string]any{"template": map[string]string{"template": "callback_missed"}}}, &a)
	if !a.Closed || a.Errors != nil {
		t.Fatalf("reply submit: %+v", a)
	}
	if st := c.state("U0ALICE"); st.View != nil {
		t.Fatal("the modal stayed open after a successful submit")
	}

	// The text arrives on the phone and is delivered (a signed status callback).
	c.waitFor("U0ALICE", "the reply on the phone, delivered", func(st demoState) bool {
		for _, p := range st.Phones {
			for _, m := range p.Messages {
				if p.Number == demoCaller && m.Dir == "out" && strings.HasPrefix(m.Body, "Sorry we missed you, Alice tried to call you back") && m.Status == "delivered" {
					return true
				}
			}
		}
		return false
	})

	// The caller replies "2": the thread shows it, the card says Maintenance.
	var sent struct{ Status string }
	if code := c.post("/sandbox/api/phone/sms", map[string]any{"from": demoCaller, "line": lettingsLine, "body": "2"}, &sent); code != 200 || sent.Status != "received" {
		t.Fatalf("sms: %d %+v", code, sent)
	}
	c.waitFor("U0ALICE", "the triage reply in the thread", func(st demoState) bool {
		m := st.cards("C0LETTINGS")[0]
		return strings.Contains(m.thread(), "Caller texted\n> 2") && strings.Contains(m.thread(), "Caller chose Maintenance") &&
			strings.Contains(string(m.Blocks), `*Category*\nMaintenance`)
	})

	// Close: the sandbox, like Slack, wants the required note; Ringback
	// refuses a blank one; with a note the card collapses to Reopen.
	click("U0ALICE", "close")
	st = c.state("U0ALICE")
	if st.View == nil || st.View.CallbackID != "close" {
		t.Fatalf("no Close modal: %+v", st.View)
	}
	submit := func(values map[string]any) slackAnswer {
		var a slackAnswer
		c.post("/sandbox/api/slack/view/submit", map[string]any{"user": "U0ALICE", "view_id": st.View.ID, "values": values}, &a)
		return a
	}
	if a := submit(map[string]any{"outcome": map[string]string{"outcome": "resolved"}}); a.Errors["note"] != "Please complete this required field." || a.Status != 0 {
		t.Errorf("empty note: %+v", a)
	}
	if a := submit(map[string]any{"outcome": map[string]string{"outcome": "resolved"}, "note": map[string]string{"note": "   "}}); a.Errors["note"] != "A note is required to close a case." || a.Closed {
		t.Errorf("blank note: %+v", a)
	}
	if a := submit(map[string]any{"outcome": map[string]string{"outcome": "resolved"}, "note": map[string]string{"note": "Boiler engineer booked for Thursday"}}); !a.Closed {
		t.Fatalf("close: %+v", a)
	}
	c.waitFor("U0ALICE", "the collapsed card", func(st demoState) bool {
		m := st.cards("C0LETTINGS")[0]
		return strings.Join(m.buttons(), ",") == "reopen" && strings.Contains(string(m.Blocks), "Boiler engineer booked for Thursday")
	})

	// /callbacks answers only the person who typed it.
	var cmd slackAnswer
	if c.post("/sandbox/api/slack/command", map[string]any{"user": "U0CHEN", "channel": "C0MAINT", "text": "help"}, &cmd); cmd.Status != 200 {
		t.Fatalf("/callbacks: %+v", cmd)
	}
	st = c.state("U0CHEN")
	if n := len(st.Ephemerals); n != 1 || st.Ephemerals[0].Typed != "/callbacks help" || !strings.Contains(st.Ephemerals[0].Text, "/callbacks mine") || st.Ephemerals[0].Channel != "C0MAINT" {
		t.Errorf("Chen's ephemerals = %+v", st.Ephemerals)
	}
	for _, e := range c.state("U0ALICE").Ephemerals {
		if e.Source == "command" {
			t.Errorf("Alice sees Chen's command answer: %+v", e)
		}
	}

	// The clock control jumps Ringback's clock.
	before := c.state("U0ALICE").Clock.Now
	var clock struct {
		Now   time.Time
		Local string
	}
	c.post("/sandbox/api/clock", map[string]string{"advance": "1h"}, &clock)
	if d := clock.Now.Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("+1 h moved the clock by %s", d)
	}
	c.post("/sandbox/api/clock", map[string]string{"to": "monday"}, &clock)
	if !strings.HasPrefix(clock.Local, "Mon ") || !strings.HasSuffix(clock.Local, " 08:00") {
		t.Errorf("to Monday 08:00: %q", clock.Local)
	}
	if code := c.post("/sandbox/api/clock", map[string]string{"advance": "-1h"}, nil); code != http.StatusBadRequest {
		t.Errorf("a backwards jump: %d", code)
	}
}

// "Leave a voicemail" goes through Twilio's voice webhooks to a card with
// the transcript; "fail the next delivery" makes the text-back come back
// undelivered, and the card says so.
func TestDemoVoicemailAndFailedDelivery(t *testing.T) {
	d := startTestDemo(t)
	c := &sandboxClient{t: t, base: d.url}
	if code := c.post("/sandbox/api/phone/fail-next", map[string]any{}, nil); code != 200 {
		t.Fatalf("fail-next: %d", code)
	}
	if st := c.state("U0ALICE"); !st.FailNext {
		t.Error("the state does not show the next delivery failing")
	}
	var call struct {
		SID, Status string
		Result      int
	}
	if code := c.post("/sandbox/api/phone/voicemail", map[string]any{"from": demoCaller, "line": lettingsLine, "transcript": "The boiler is banging again at flat 4"}, &call); code != 200 || call.Status != "voicemail" {
		t.Fatalf("voicemail: %d %+v", code, call)
	}
	st := c.waitFor("U0ALICE", "the voicemail's card with the transcript and the failed text-back", func(st demoState) bool {
		cards := st.cards("C0LETTINGS")
		if len(cards) != 1 {
			return false
		}
		blocks := string(cards[0].Blocks)
		return strings.Contains(blocks, "The boiler is banging again at flat 4") && strings.Contains(blocks, "/sandbox/recordings/RE") && strings.Contains(blocks, `*Text-back*\nundelivered`)
	})
	undelivered := false
	for _, p := range st.Phones {
		for _, m := range p.Messages {
			undelivered = undelivered || (p.Number == demoCaller && m.Dir == "out" && strings.HasPrefix(m.Status, "undelivered"))
		}
	}
	if !undelivered || st.FailNext {
		t.Errorf("the text-back on the phone is not undelivered, or the next failure is still armed: %+v", st.Phones)
	}
	res, err := http.Get(d.url + "/sandbox/recordings/RE0")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("recording: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// A fresh demo posts no digest for the week before it started: there were
// no calls, so it would be all zeros.
func TestDemoFirstStartPostsNoEmptyDigest(t *testing.T) {
	d := startTestDemo(t)
	c := &sandboxClient{t: t, base: d.url}
	// The digest falls due as the demo starts (unless it starts on a Monday
	// before 08:00): wait for its row to be settled, then for the outbox.
	deadline := time.Now().Add(time.Minute)
	for {
		done, err := d.rt.store.OutboxByState(context.Background(), store.OutboxDone, 1000)
		if err != nil {
			t.Fatal(err)
		}
		settled := false
		for _, it := range done {
			settled = settled || strings.HasPrefix(it.Kind, bot.KindDigest)
		}
		if settled || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	outboxIdle(t, d, time.Now().Add(time.Minute), 50*time.Millisecond)
	if msgs := c.state("U0MANAGER1").channel("C0DIGEST"); len(msgs) != 0 {
		t.Errorf("the digest channel holds %d messages at first start: %q", len(msgs), msgs[0].Text)
	}
}

// "Replay a busy day" sends a day of calls and texts through the signed
// webhooks, and every one is taken.
func TestDemoBusyDay(t *testing.T) {
	d := startTestDemo(t)
	c := &sandboxClient{t: t, base: d.url}
	// The start's own rows (the digest, its chart) finish first: one
	// finishing between the two reads would count as performed, not done.
	outboxIdle(t, d, time.Now().Add(time.Minute), 50*time.Millisecond)
	performedBefore, rowsBefore := performedOnce(t, d)
	if code := c.post("/sandbox/api/busyday", map[string]any{}, nil); code != http.StatusAccepted {
		t.Fatalf("busy day: %d", code)
	}
	if code := c.post("/sandbox/api/busyday", map[string]any{}, nil); code != http.StatusConflict {
		t.Errorf("a second replay while one runs: %d", code)
	}
	// About 150 webhooks and 400 outbox rows under -race: one budget for
	// the replay and the cards after it, polled gently (the state is
	// large, and reading it costs the server what it needs for the day).
	// Alone it takes about 2.5 minutes under -race on 2 cores; CI runs it
	// beside the other packages.
	deadline := time.Now().Add(6 * time.Minute)
	st := c.waitUntil(deadline, time.Second, "U0MANAGER1", "the end of the busy day", func(st demoState) bool { return st.BusyDay.Finished })
	b := st.BusyDay
	if b.Errors != 0 || b.Calls < 70 || b.Calls > 110 || b.Missed == 0 || b.Texts == 0 || b.Done != b.Total {
		t.Fatalf("busy day = %+v", b)
	}
	// Missed calls became cards; the caller's 9 made one of them urgent.
	st = c.waitUntil(deadline, time.Second, "U0MANAGER1", "the cards, one urgent", func(st demoState) bool {
		urgent := false
		for _, m := range st.channel("C0MAINT") {
			urgent = urgent || strings.Contains(string(m.Blocks), "URGENT")
		}
		return urgent && len(st.channel("C0LETTINGS"))+len(st.channel("C0MAINT")) >= b.Missed/2
	})
	if len(st.Phones) < 20 {
		t.Errorf("%d phones texted", len(st.Phones))
	}
	// The stats tell the day as it was replayed: every call counted, and
	// each text-back sent at its call's time, not when the clock next
	// jumped. The last call's text-back may still be on its way as the
	// replay ends: the stats wait for it, so it counts.
	outboxIdle(t, d, deadline, time.Second)
	var a slackAnswer
	c.post("/sandbox/api/slack/command", map[string]any{"user": "U0MANAGER1", "channel": "C0MAINT", "text": "stats"}, &a)
	var stats string
	for _, e := range c.state("U0MANAGER1").Ephemerals {
		stats = e.Text
	}
	if want := fmt.Sprintf("%d of %d calls", b.Missed, b.Calls); !strings.Contains(stats, want) {
		t.Errorf("stats after the busy day lack %q:\n%s", want, stats)
	}
	if m := regexp.MustCompile(`Text-back within 90 s:\*? (\d+) / (\d+)`).FindStringSubmatch(stats); m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("text-backs not all within 90 s of their calls:\n%s", stats)
		var late []struct {
			ID       int64   `db:"id"`
			Origin   string  `db:"origin"`
			Created  string  `db:"created_at"`
			Calls    string  `db:"calls"`
			Accepted *string `db:"accepted"`
			Status   string  `db:"textback_status"`
		}
		err := d.rt.store.DB().Select(&late, `SELECT c.id, c.origin, CAST(c.created_at AS TEXT) AS created_at, c.textback_status,
			(SELECT GROUP_CONCAT(CAST(started_at AS TEXT) || ' ' || status, ', ') FROM calls WHERE case_id = c.id) AS calls,
			(SELECT CAST(MIN(accepted_at) AS TEXT) FROM messages m WHERE m.case_id = c.id AND m.kind = 'textback') AS accepted
			FROM cases c ORDER BY c.id`)
		for _, l := range late {
			if l.Accepted != nil {
				t.Logf("case %d (%s, %s) created %s, calls [%s], text-back accepted %s", l.ID, l.Origin, l.Status, l.Created, l.Calls, *l.Accepted)
			} else {
				t.Logf("case %d (%s, %s) created %s, calls [%s], no text-back accepted", l.ID, l.Origin, l.Status, l.Created, l.Calls)
			}
			var trail []string
			_ = d.rt.store.DB().Select(&trail, d.rt.store.DB().Rebind(`SELECT CAST(at AS TEXT) || ' ' || kind || ' ' || data FROM events WHERE case_id = ? ORDER BY id`), l.ID)
			var rows []string
			_ = d.rt.store.DB().Select(&rows, d.rt.store.DB().Rebind(`SELECT kind || ' run_at ' || CAST(run_at AS TEXT) || ' created ' || CAST(created_at AS TEXT) || ' updated ' || CAST(updated_at AS TEXT) || ' attempts ' || attempts FROM outbox WHERE case_id = ? ORDER BY id`), l.ID)
			t.Logf("  events %q\n  rows %q", trail, rows)
		}
		if err != nil {
			t.Log(err)
		}
	}
	// No side effect ran twice: every row the day queued was performed to
	// the end exactly once (the demo clock jumps; claims must not lapse).
	outboxIdle(t, d, deadline, time.Second)
	performed, rows := performedOnce(t, d)
	for kind, n := range rows {
		if got := performed[kind] - performedBefore[kind]; got != n-rowsBefore[kind] {
			t.Errorf("%s: performed %d times for %d rows", kind, got, n-rowsBefore[kind])
		}
	}
	// Once Ringback is idle, a change costs the page only what changed: a claim
	// reaches it as a delta of one card, not the whole state again.
	full, version := c.stateBytes("U0ALICE", 0)
	card := st.cards("C0LETTINGS")[0]
	start := time.Now()
	var claim slackAnswer
	id := regexp.MustCompile(`"block_id":\s*"case:(\d+)"`).FindStringSubmatch(string(card.Blocks))
	if id == nil {
		t.Fatalf("no case id in the card: %s", card.Blocks)
	}
	c.post("/sandbox/api/slack/action", map[string]any{"user": "U0ALICE", "channel": "C0LETTINGS", "ts": card.TS, "block_id": "case:" + id[1], "action_id": "claim", "type": "button", "value": id[1], "text": "claim"}, &claim)
	var delta []byte
	for {
		delta, _ = c.stateBytes("U0ALICE", version)
		if bytes.Contains(delta, []byte(`*Owner*\n\u003c@U0ALICE\u003e`)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start).Round(time.Millisecond)
	// The delta's messages are the ones that changed (checked below: none as
	// the full state had it), and the running clock may change any number of
	// cards meanwhile; what must stay small is the rest, what a delta sends
	// beyond its messages.
	changed := 0
	for _, byTS := range messagesByChannel(t, delta) {
		for _, raw := range byTS {
			changed += len(raw)
		}
	}
	fullPhones, deltaPhones := phonesByNumber(t, full), phonesByNumber(t, delta)
	for number, raw := range deltaPhones {
		if !bytes.Equal(raw, fullPhones[number]) {
			changed += len(raw)
		}
	}
	t.Logf("after the busy day: full state %d bytes, the claim's delta %d bytes (%d of them changed messages and phones), claim → card in the delta %s", len(full), len(delta), changed, took)
	if rest := len(delta) - changed; rest*5 > len(full) {
		t.Errorf("the claim's delta sends %d bytes besides its changed messages, of the full state's %d: not a delta", rest, len(full))
	}
	var dv struct {
		Channels []struct {
			ID       string
			Messages []demoMessage
			Order    []string
			Partial  bool
		}
	}
	if err := json.Unmarshal(delta, &dv); err != nil {
		t.Fatal(err)
	}
	before := messagesByChannel(t, full)
	after := messagesByChannel(t, delta)
	for _, ch := range dv.Channels {
		// The demo's clock runs on meanwhile, so timers may change any
		// number of cards (a burst of calls goes overdue together); what a
		// delta must not hold is a message as the full state had it.
		var unchanged []string
		claimed := false
		for _, m := range ch.Messages {
			switch {
			case m.TS == card.TS:
				claimed = true
			case bytes.Equal(after[ch.ID][m.TS], before[ch.ID][m.TS]):
				unchanged = append(unchanged, m.Text)
			}
		}
		switch {
		case !ch.Partial:
			t.Errorf("channel %s is not a delta", ch.ID)
		case ch.ID == "C0LETTINGS" && (!claimed || len(ch.Order) < len(st.channel("C0LETTINGS"))):
			t.Errorf("the delta of #lettings: the card %v, %d in order", claimed, len(ch.Order))
		case len(unchanged) > 0:
			t.Errorf("channel %s sent %d unchanged messages: %q", ch.ID, len(unchanged), unchanged)
		}
	}
}

// messagesByChannel is a state's messages as the page receives them, by
// channel and ts.
func messagesByChannel(t *testing.T, state []byte) map[string]map[string]json.RawMessage {
	t.Helper()
	var v struct {
		Channels []struct {
			ID       string
			Messages []json.RawMessage
		}
	}
	if err := json.Unmarshal(state, &v); err != nil {
		t.Fatal(err)
	}
	byChannel := map[string]map[string]json.RawMessage{}
	for _, ch := range v.Channels {
		byChannel[ch.ID] = map[string]json.RawMessage{}
		for _, raw := range ch.Messages {
			var m struct{ TS string }
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			byChannel[ch.ID][m.TS] = raw
		}
	}
	return byChannel
}

// phonesByNumber is a state's phones as the page receives them, by number.
func phonesByNumber(t *testing.T, state []byte) map[string]json.RawMessage {
	t.Helper()
	var v struct{ Phones []json.RawMessage }
	if err := json.Unmarshal(state, &v); err != nil {
		t.Fatal(err)
	}
	byNumber := map[string]json.RawMessage{}
	for _, raw := range v.Phones {
		var p struct{ Number string }
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		byNumber[p.Number] = raw
	}
	return byNumber
}

// outboxIdle waits, polling every poll until deadline, for the demo's
// outbox to hold no pending or running row.
func outboxIdle(t testing.TB, d *runningDemo, deadline time.Time, poll time.Duration) {
	t.Helper()
	for time.Now().Before(deadline) {
		counts, err := d.rt.store.OutboxCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.OutboxPending]+counts[store.OutboxRunning] == 0 {
			return
		}
		if !time.Now().Add(poll).Before(deadline) {
			t.Fatalf("the outbox is not idle by the deadline: %d pending, %d running", counts[store.OutboxPending], counts[store.OutboxRunning])
		}
		time.Sleep(poll)
	}
}

// performedOnce reads, per outbox kind, how often a performer finished a
// row (ringback_outbox_performed_total, results done and lost: a lost row
// was performed by a worker whose claim had been taken over) and how many
// rows are done.
func performedOnce(t *testing.T, d *runningDemo) (performed, rows map[string]int) {
	t.Helper()
	// The demo's clock runs on, and a timer may finish a row between the
	// two reads: read the counters on both sides of the rows until they
	// agree, so both tell the same moment.
	for try := 0; ; try++ {
		before := performedCounts(t, d)
		done, err := d.rt.store.OutboxByState(context.Background(), store.OutboxDone, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		after := performedCounts(t, d)
		if maps.Equal(before, after) || try == 20 {
			rows = map[string]int{}
			for _, it := range done {
				rows[it.Kind]++
			}
			return after, rows
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// performedCounts reads ringback_outbox_performed_total by kind.
func performedCounts(t *testing.T, d *runningDemo) map[string]int {
	t.Helper()
	resp, err := http.Get(d.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	performed := map[string]int{}
	// Marked done: a run whose claim was taken over ("lost") is run again
	// and marked done then, its side effect found rather than repeated.
	line := regexp.MustCompile(`(?m)^ringback_outbox_performed_total\{kind="([^"]+)",result="(done)"\} (\d+)$`)
	for _, m := range line.FindAllStringSubmatch(string(body), -1) {
		n, _ := strconv.Atoi(m[3])
		performed[m[1]] += n
	}
	return performed
}
