package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Remotes a fault window can hit.
const (
	remoteSlack  = "slack"
	remoteTwilio = "twilio"
)

// mode is what a remote does to requests during a window.
type mode int

const (
	// modeFail answers status at once; the request is not performed.
	modeFail mode = iota
	// modeHang holds the request until the window ends, then lets it
	// through; a client that gives up first got nothing performed.
	modeHang
	// modeRateLimit answers 429 with Retry-After: retryAfter seconds.
	modeRateLimit
)

func (m mode) String() string {
	switch m {
	case modeFail:
		return "fail"
	case modeHang:
		return "hang"
	case modeRateLimit:
		return "429"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// window is one fault on one remote, from..to after the traffic starts.
type window struct {
	name       string
	remote     string
	from, to   time.Duration
	mode       mode
	status     int // modeFail
	retryAfter int // modeRateLimit, seconds
}

func (w window) String() string {
	what := w.mode.String()
	switch w.mode {
	case modeFail:
		what = strconv.Itoa(w.status) + "s"
	case modeRateLimit:
		what = fmt.Sprintf("429s (Retry-After: %d)", w.retryAfter)
	case modeHang:
		what = "hung requests"
	}
	return fmt.Sprintf("%5.1fs–%5.1fs %-6s %s: %s", w.from.Seconds(), w.to.Seconds(), w.remote, w.name, what)
}

// profile is what a run does; -short and the full run are two of them.
type profile struct {
	calls      int
	rate       int           // first calls per second
	kills      int           // SIGKILLs; 0 = every killEvery until the calls are offered
	killMin    time.Duration // between kills
	killMax    time.Duration
	slackDown  time.Duration // Slack outage: 500s for the first half, 429s for the second
	twilioDown time.Duration // Twilio 503s
	slackHang  time.Duration // Slack hangs
	storm      time.Duration // 429 storm on Slack
	retryAfter int           // seconds, every 429 of the run
	dbRestart  bool
	// dbDown is how long PostgreSQL stays stopped in its restart, with a
	// replica killed halfway (0: pg_ctl restart, back as soon as it can
	// be). A restart's length is otherwise the machine's: how long the
	// shutdown checkpoint takes.
	dbDown time.Duration
}

// The two profiles of the issue.
var (
	fullProfile = profile{
		calls: 2000, rate: 40, killMin: 5 * time.Second, killMax: 8 * time.Second,
		slackDown: 20 * time.Second, twilioDown: 10 * time.Second, slackHang: 10 * time.Second,
		storm: 10 * time.Second, retryAfter: 1, dbRestart: true, dbDown: 3 * time.Second,
	}
	shortProfile = profile{
		calls: 300, rate: 10, kills: 3, killMin: 5 * time.Second, killMax: 8 * time.Second,
		slackDown: 6 * time.Second, twilioDown: 5 * time.Second, slackHang: 5 * time.Second,
		storm: 10 * time.Second, retryAfter: 1, dbRestart: true, dbDown: 2 * time.Second,
	}
)

// offered is how long the first calls take to offer.
func (p profile) offered() time.Duration {
	return time.Duration(p.calls) * time.Second / time.Duration(p.rate)
}

// plan is when each fault happens, in offsets from the start of traffic.
type plan struct {
	windows   []window
	kills     []time.Duration
	dbRestart time.Duration // < 0: none
	dbDown    time.Duration // how long PostgreSQL stays stopped (0: pg_ctl restart)
	downKill  time.Duration // a kill while it is stopped; < 0: none
}

// makePlan lays the faults out over the traffic: Slack's windows one after
// the other from a tenth of the way in, Twilio's overlapping Slack's
// outage, the database restart past the middle (with a kill while it is
// down, when it stays down dbDown), kills every killMin–killMax from 4 s
// on.
func makePlan(p profile, rng *rand.Rand) plan {
	span := p.offered()
	var pl plan
	at := span / 10
	place := func(w window, d time.Duration) {
		w.from, w.to = at, at+d
		pl.windows = append(pl.windows, w)
		at += d
	}
	const gap = 2 * time.Second
	twilioAt := at
	if p.slackDown > 0 {
		half := p.slackDown / 2
		place(window{name: "outage", remote: remoteSlack, mode: modeFail, status: http.StatusInternalServerError}, half)
		twilioAt = at
		place(window{name: "outage", remote: remoteSlack, mode: modeRateLimit, retryAfter: p.retryAfter}, p.slackDown-half)
		at += gap
	}
	if p.twilioDown > 0 {
		pl.windows = append(pl.windows, window{name: "outage", remote: remoteTwilio, mode: modeFail,
			status: http.StatusServiceUnavailable, from: twilioAt, to: twilioAt + p.twilioDown})
	}
	if p.slackHang > 0 {
		place(window{name: "hang", remote: remoteSlack, mode: modeHang}, p.slackHang)
		at += gap
	}
	if p.storm > 0 {
		place(window{name: "429 storm", remote: remoteSlack, mode: modeRateLimit, retryAfter: p.retryAfter}, p.storm)
	}
	slices.SortStableFunc(pl.windows, func(a, b window) int { return int(a.from - b.from) })

	pl.dbRestart, pl.downKill = -1, -1
	if p.dbRestart {
		pl.dbRestart = span * 6 / 10
		if p.dbDown > 0 {
			// Halfway through the time stopped: the replica dies with
			// webhooks spooled and rows claimed that it could not settle,
			// and starts again against a database that is not there.
			pl.dbDown, pl.downKill = p.dbDown, pl.dbRestart+p.dbDown/2
		}
	}
	if p.killMin <= 0 {
		return pl
	}
	jitter := func() time.Duration {
		return p.killMin + time.Duration(rng.Int64N(int64(p.killMax-p.killMin)+1))
	}
	for t := 4*time.Second + jitter() - p.killMin; ; t += jitter() {
		if p.kills > 0 && len(pl.kills) == p.kills || p.kills == 0 && t > span {
			break
		}
		pl.kills = append(pl.kills, t)
	}
	return pl
}

// active is the window that holds remote at offset t, if any.
func (pl plan) active(remote string, t time.Duration) (window, bool) {
	for _, w := range pl.windows {
		if w.remote == remote && t >= w.from && t < w.to {
			return w, true
		}
	}
	return window{}, false
}

// clock tells how far into the traffic a moment is; before start, no
// fault applies (the replicas start up against healthy remotes).
type clock struct {
	start atomic.Pointer[time.Time]
}

func (c *clock) begin(t time.Time) { c.start.Store(&t) }

// since is the offset of now from the start; ok is false before it.
func (c *clock) since(now time.Time) (time.Duration, bool) {
	s := c.start.Load()
	if s == nil {
		return 0, false
	}
	return now.Sub(*s), true
}

// faulty wraps a stand-in's handler and injects the plan's faults for one
// remote. Requests outside any window, whatever their path, go through
// untouched, so endpoints the stand-ins gain later need nothing here.
type faulty struct {
	remote string
	next   http.Handler
	plan   plan
	clock  *clock
	now    func() time.Time
	done   <-chan struct{} // closed on shutdown: hung requests end

	mu       sync.Mutex
	injected map[string]int // by window name and mode
}

func newFaulty(remote string, next http.Handler, pl plan, c *clock, done <-chan struct{}) *faulty {
	return &faulty{remote: remote, next: next, plan: pl, clock: c, now: time.Now, done: done, injected: map[string]int{}}
}

func (f *faulty) count(w window) {
	f.mu.Lock()
	f.injected[w.name+" "+w.mode.String()]++
	f.mu.Unlock()
}

// counts returns how many requests each kind of fault hit.
func (f *faulty) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.injected))
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, started := f.clock.since(f.now())
	win, hit := f.plan.active(f.remote, t)
	if !started || !hit {
		f.next.ServeHTTP(w, r)
		return
	}
	f.count(win)
	switch win.mode {
	case modeHang:
		timer := time.NewTimer(win.to - t)
		defer timer.Stop()
		select {
		case <-timer.C:
			f.next.ServeHTTP(w, r) // a late answer to a client that waited
		case <-r.Context().Done():
			// The client gave up: the remote never performed it.
		case <-f.done:
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		}
	case modeRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(win.retryAfter))
		writeRemoteError(w, f.remote, http.StatusTooManyRequests)
	default:
		writeRemoteError(w, f.remote, win.status)
	}
}

// writeRemoteError answers as the remote does: Slack's rate limit body that
// slack-go reads as *slack.RateLimitedError and a bare 5xx otherwise;
// Twilio's JSON error shape.
func writeRemoteError(w http.ResponseWriter, remote string, status int) {
	switch remote {
	case remoteTwilio:
		code := 20500
		if status == http.StatusTooManyRequests {
			code = 20429
		} else if status == http.StatusServiceUnavailable {
			code = 20503
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`,
			code, http.StatusText(status), code, status)
	default:
		if status == http.StatusTooManyRequests {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			fmt.Fprint(w, `{"ok":false,"error":"ratelimited"}`)
			return
		}
		http.Error(w, http.StatusText(status), status)
	}
}

// sleepCtx sleeps d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
