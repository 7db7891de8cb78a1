package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"ringback/bot/slack/slackstandin"
	"ringback/config"
	"ringback/sms/twiliostandin"
)

func TestShortPlanHasTheIssuesFaults(t *testing.T) {
	pl := makePlan(shortProfile, rand.New(rand.NewPCG(7, 0)))
	if len(pl.kills) != 3 {
		t.Fatalf("kills = %v, want 3", pl.kills)
	}
	for i := 1; i < len(pl.kills); i++ {
		if d := pl.kills[i] - pl.kills[i-1]; d < 5*time.Second || d > 8*time.Second {
			t.Errorf("kill %d comes %s after the previous one, want 5–8 s", i, d)
		}
	}
	if pl.dbRestart <= 0 || pl.dbRestart >= shortProfile.offered() {
		t.Errorf("database restart at %s, want during the %s of traffic", pl.dbRestart, shortProfile.offered())
	}
	if pl.dbDown != 2*time.Second || pl.downKill <= pl.dbRestart || pl.downKill >= pl.dbRestart+pl.dbDown {
		t.Errorf("database stopped %s from %s, a kill at %s: want 2 s, and a kill within them", pl.dbDown, pl.dbRestart, pl.downKill)
	}
	p := shortProfile
	p.dbDown = 0
	if pl := makePlan(p, rand.New(rand.NewPCG(7, 0))); pl.downKill >= 0 || pl.dbDown != 0 || pl.dbRestart < 0 {
		t.Errorf("-db-down 0: restart at %s, stopped %s, kill at %s; want a plain restart and no kill of its own", pl.dbRestart, pl.dbDown, pl.downKill)
	}
	storm := false
	for _, w := range pl.windows {
		if w.name == "429 storm" {
			storm = true
			if w.to-w.from != 10*time.Second || w.mode != modeRateLimit || w.retryAfter != 1 {
				t.Errorf("storm = %+v, want 10 s of 429 with Retry-After 1", w)
			}
		}
	}
	if !storm {
		t.Errorf("no 429 storm in %v", pl.windows)
	}
}

func TestFullPlanKillsEvery5To8sAndKeepsSlackWindowsApart(t *testing.T) {
	for seed := range uint64(20) {
		pl := makePlan(fullProfile, rand.New(rand.NewPCG(seed, 0)))
		span := fullProfile.offered()
		if n := len(pl.kills); n < int(span/(8*time.Second))-1 || n > int(span/(5*time.Second))+1 {
			t.Fatalf("seed %d: %d kills over %s", seed, n, span)
		}
		for i, k := range pl.kills {
			if k > span {
				t.Errorf("seed %d: kill at %s after the traffic (%s)", seed, k, span)
			}
			if i > 0 {
				if d := k - pl.kills[i-1]; d < 5*time.Second || d > 8*time.Second {
					t.Errorf("seed %d: kills %s apart", seed, d)
				}
			}
		}
		var slackWins []window
		var down, twilio, hang time.Duration
		for _, w := range pl.windows {
			switch {
			case w.remote == remoteTwilio:
				twilio += w.to - w.from
				if w.status != http.StatusServiceUnavailable {
					t.Errorf("twilio window %v is not 503s", w)
				}
			case w.name == "outage":
				down += w.to - w.from
			case w.mode == modeHang:
				hang += w.to - w.from
			}
			if w.remote == remoteSlack {
				slackWins = append(slackWins, w)
			}
		}
		if down != 20*time.Second || twilio != 10*time.Second || hang != 10*time.Second {
			t.Errorf("slack outage %s, twilio 503s %s, hang %s; want 20 s, 10 s, 10 s", down, twilio, hang)
		}
		for i := 1; i < len(slackWins); i++ {
			if slackWins[i].from < slackWins[i-1].to {
				t.Errorf("slack windows overlap: %v and %v", slackWins[i-1], slackWins[i])
			}
		}
	}
}

// The wrapper's outage is what slack-go sees from real Slack: 429s come
// back as *slack.RateLimitedError with the window's Retry-After, and
// nothing is posted during any fault; outside windows everything passes.
func TestFaultyWrapperFailsRateLimitsAndPassesThrough(t *testing.T) {
	sl := slackstandin.New("xoxb-test")
	pl := plan{windows: []window{
		{name: "outage", remote: remoteSlack, from: 10 * time.Second, to: 20 * time.Second, mode: modeFail, status: 500},
		{name: "storm", remote: remoteSlack, from: 20 * time.Second, to: 30 * time.Second, mode: modeRateLimit, retryAfter: 3},
		{name: "outage", remote: remoteTwilio, from: 0, to: time.Hour, mode: modeFail, status: 503},
	}, dbRestart: -1}
	var offset atomic.Int64
	c := &clock{}
	base := time.Unix(1_800_000_000, 0)
	c.begin(base)
	f := newFaulty(remoteSlack, sl.Handler(), pl, c, make(chan struct{}))
	f.now = func() time.Time { return base.Add(time.Duration(offset.Load())) }
	srv := httptest.NewServer(f)
	defer srv.Close()
	sl.SetBaseURL(srv.URL)
	api := slack.New("xoxb-test", slack.OptionAPIURL(srv.URL+"/"))
	post := func() error {
		_, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
		return err
	}

	if err := post(); err != nil {
		t.Fatalf("before any window: %v", err)
	}
	offset.Store(int64(12 * time.Second))
	if err := post(); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("during the 500s: err = %v", err)
	}
	offset.Store(int64(25 * time.Second))
	err := post()
	var rl *slack.RateLimitedError
	if !asRateLimited(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Errorf("during the storm: err = %v, want a rate limit with Retry-After 3s", err)
	}
	offset.Store(int64(31 * time.Second))
	if err := post(); err != nil {
		t.Fatalf("after the windows: %v", err)
	}
	if n := len(sl.Messages("C1")); n != 2 {
		t.Errorf("%d messages posted, want 2 (none during faults)", n)
	}
	got := f.counts()
	if got["outage fail"] != 1 || got["storm 429"] != 1 {
		t.Errorf("counts = %v", got)
	}
	// Paths the stand-in does not know (yet) are passed through, not eaten.
	res, err := http.Get(srv.URL + "/conversations.history?channel=C1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
		t.Errorf("outside a window a new method got %d", res.StatusCode)
	}
}

func asRateLimited(err error, rl **slack.RateLimitedError) bool {
	e, ok := err.(*slack.RateLimitedError)
	if ok {
		*rl = e
	}
	return ok
}

// A hung request is performed when the window ends if the client is still
// waiting, and never if it gave up first.
func TestFaultyWrapperHangs(t *testing.T) {
	var performed atomic.Int64
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { performed.Add(1) })
	c := &clock{}
	c.begin(time.Now())
	pl := plan{windows: []window{{name: "hang", remote: remoteSlack, from: 0, to: 300 * time.Millisecond, mode: modeHang}}}
	srv := httptest.NewServer(newFaulty(remoteSlack, next, pl, c, make(chan struct{})))
	defer srv.Close()

	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := impatient.Get(srv.URL + "/chat.postMessage"); err == nil {
		t.Fatal("a hung request answered within 50ms")
	}
	start := time.Now()
	res, err := http.Get(srv.URL + "/chat.postMessage")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("patient request answered after %s, before the window ended", waited)
	}
	time.Sleep(50 * time.Millisecond)
	if n := performed.Load(); n != 1 {
		t.Errorf("performed %d requests, want only the patient one", n)
	}
}

func TestTwilioFaultsSpeakTwilio(t *testing.T) {
	rec := httptest.NewRecorder()
	writeRemoteError(rec, remoteTwilio, http.StatusServiceUnavailable)
	var body struct {
		Code   int `json:"code"`
		Status int `json:"status"`
	}
	b, _ := io.ReadAll(rec.Body)
	if err := json.Unmarshal(b, &body); err != nil || rec.Code != 503 || body.Status != 503 || body.Code == 0 {
		t.Errorf("503 answer = %d %s", rec.Code, b)
	}
}

func TestScriptsAreValidAndVaried(t *testing.T) {
	scripts := makeScripts(2000, 40, rand.New(rand.NewPCG(1, 0)))
	seen := map[string]bool{}
	var dual, repeat, digit, words int
	for i, s := range scripts {
		if seen[s.number] {
			t.Fatalf("caller %s twice", s.number)
		}
		seen[s.number] = true
		if i%500 == 0 {
			if n, err := config.Normalize(s.number, "GB"); err != nil || n != s.number {
				t.Errorf("Normalize(%s) = %q, %v", s.number, n, err)
			}
		}
		if want := time.Duration(i) * time.Second / 40; s.at != want {
			t.Errorf("caller %d at %s, want %s", i, s.at, want)
		}
		if len(s.lines) == 2 {
			dual++
			if len(s.replies) > 0 || len(s.repeats) > 0 {
				t.Errorf("a caller of both lines also replies or rings again: %+v", s)
			}
		}
		if len(s.repeats) > 0 {
			repeat++
		}
		digits := 0
		for _, r := range s.replies {
			if r.digit {
				digits++
				digit++
			} else {
				words++
			}
		}
		if digits > 1 {
			t.Errorf("caller %s sends %d triage digits; the verdict expects one", s.number, digits)
		}
	}
	for name, n := range map[string]int{"both lines": dual, "repeat": repeat, "digit": digit, "words": words} {
		if n < 20 {
			t.Errorf("only %d callers of kind %s in 2000", n, name)
		}
	}
}

func TestSleepCtxStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if sleepCtx(ctx, time.Hour) {
		t.Error("slept through a cancelled context")
	}
}

// The texts whose "sent" callback comes after their "delivered" follow the
// run's seed: the same seed crosses the same callers' texts, another seed
// others, and about one text in lateSentEvery is crossed.
func TestLateSentFollowsTheSeed(t *testing.T) {
	scripts := makeScripts(2000, 40, rand.New(rand.NewPCG(1, 0)))
	// Each caller gets two texts; the callers' texts interleave
	// differently when the run is repeated (backwards here).
	crossed := func(seed uint64, backwards bool) map[string]bool {
		tw := twiliostandin.NewServer("AC0", "token")
		defer tw.Close()
		tr := newTraffic(nil, tw, "", "", "", seed)
		late := map[string]bool{}
		for n := range 2 {
			for i := range scripts {
				if backwards {
					i = len(scripts) - 1 - i
				}
				if tr.crosses(scripts[i].number) {
					late[fmt.Sprintf("%s#%d", scripts[i].number, n)] = true
				}
			}
		}
		return late
	}
	a, again, other := crossed(7, false), crossed(7, true), crossed(8, false)
	if !maps.Equal(a, again) {
		t.Fatalf("seed 7 crossed %d texts, then %d others", len(a), len(again))
	}
	if maps.Equal(a, other) {
		t.Errorf("seeds 7 and 8 crossed the same %d texts", len(a))
	}
	// A caller's second text is drawn apart from the first.
	apart := 0
	for _, sc := range scripts {
		if a[sc.number+"#0"] != a[sc.number+"#1"] {
			apart++
		}
	}
	if apart == 0 {
		t.Error("every caller's two texts were crossed alike: the texts to a number are not counted")
	}
	if want := 4000 / lateSentEvery; len(a) < want*8/10 || len(a) > want*12/10 {
		t.Errorf("seed 7 crossed %d of 4000 texts, want about %d", len(a), want)
	}
}
