package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"time"

	"ringback/config"
)

// busyProgress is how far "replay a busy day" has got, for the page.
type busyProgress struct {
	Running  bool   `json:"running"`
	Finished bool   `json:"finished"`
	Day      string `json:"day,omitempty"`
	Total    int    `json:"total"`
	Done     int    `json:"done"`
	Calls    int    `json:"calls"`
	Missed   int    `json:"missed"`
	Texts    int    `json:"texts"`
	Errors   int    `json:"errors"`
}

// busyStep is one thing a caller does during the replayed day.
type busyStep struct {
	At       time.Time
	Kind     string // call | sms
	From     string // E.164; "" withheld
	Line     string
	Status   string // a call's end: no-answer, busy, canceled, completed
	Duration int    // seconds, answered calls
	Body     string // a text's body
}

// busyPace is the time between two steps of the replay: fast, but slow
// enough to watch the cards arrive.
const busyPace = 40 * time.Millisecond

// slotWeights are how busy each half hour from 08:00 is: a lunchtime peak
// (12–14) and an after-work one (17–19), when tenants ring from work.
var slotWeights = []float64{
	1, 1.5, // 08:00
	2, 2, 2, 2, 2.5, 3, // 09:00–12:00
	7, 8, 8, 6.5, // 12:00–14:00
	2, 2, 2, 2, 2.5, 3, // 14:00–17:00
	7, 8, 7, 5.5, // 17:00–19:00
	2.5, 1.5, // 19:00–20:00
}

var (
	lettingsTexts    = []string{"Is the 2-bed on Elm Road still available?", "Can I book a viewing for Saturday morning?", "Calling about my deposit return", "Please call me back after 5", "Hi, is the studio on Park Lane still free?"}
	maintenanceTexts = []string{"Boiler's not working again, no hot water", "The kitchen tap is leaking under the sink", "Washing machine won't drain", "Please call me back after 5", "Front door lock is stiff, can someone look?"}
)

// planBusyDay makes a realistic day of calls for the business: 70–110
// calls from 08:00 to 20:00 on day (its midnight in the business's zone),
// with repeat callers, withheld numbers, answered calls, triage replies,
// a few STOPs and one urgent "9".
func planBusyDay(day time.Time, cfg *config.Config, rng *rand.Rand) []busyStep {
	if len(cfg.Lines) == 0 {
		return nil
	}
	total := 0.0
	for _, w := range slotWeights {
		total += w
	}
	n := 70 + rng.IntN(41)
	times := make([]time.Time, n)
	for i := range times {
		x := rng.Float64() * total
		slot := 0
		for ; slot < len(slotWeights)-1 && x >= slotWeights[slot]; slot++ {
			x -= slotWeights[slot]
		}
		offset := time.Duration(slot)*30*time.Minute + time.Duration(rng.IntN(30*60))*time.Second
		times[i] = day.Add(8*time.Hour + offset)
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })

	type caller struct{ number, line string }
	var (
		steps   []busyStep
		callers []caller
		// firsts are missed calls by new callers: they get a text-back, so
		// they are the ones who reply.
		firsts []busyStep
		next   = 300 // 07700 900300 onwards: Ofcom's drama range, clear of the phone's default
	)
	// Three to five callers hide their number.
	withheld := map[int]bool{}
	for len(withheld) < 3+rng.IntN(3) {
		withheld[rng.IntN(n)] = true
	}
	for i, at := range times {
		var c caller
		isNew := false
		switch r := rng.Float64(); {
		case withheld[i]:
			c = caller{line: pickLine(cfg, rng)}
		case r < 0.16 && len(callers) > 0:
			// Someone who rang earlier tries again, usually soon after.
			c = callers[max(0, len(callers)-1-rng.IntN(min(10, len(callers))))]
		default:
			c = caller{number: fmt.Sprintf("+447700%06d", 900000+next), line: pickLine(cfg, rng)}
			next++
			isNew = true
			callers = append(callers, c)
		}
		st := busyStep{At: at, Kind: "call", From: c.number, Line: c.line, Status: "no-answer"}
		switch r := rng.Float64(); {
		case r < 0.22:
			st.Status, st.Duration = "completed", 45+rng.IntN(375)
		case r < 0.33:
			st.Status = "busy"
		case r < 0.39:
			st.Status = "canceled"
		}
		steps = append(steps, st)
		if isNew && st.Status != "completed" {
			firsts = append(firsts, st)
		}
	}

	reply := func(call busyStep, after time.Duration, body string) {
		steps = append(steps, busyStep{At: call.At.Add(after), Kind: "sms", From: call.From, Line: call.Line, Body: body})
	}
	maint := cfg.Lines[len(cfg.Lines)-1].Number
	rng.Shuffle(len(firsts), func(i, j int) { firsts[i], firsts[j] = firsts[j], firsts[i] })
	urgent := -1
	for i, f := range firsts {
		if f.Line == maint && f.At.Before(day.Add(19*time.Hour)) {
			urgent = i
			break
		}
	}
	stops := 0
	for i, f := range firsts {
		minutes := func(lo, hi int) time.Duration { return time.Duration(lo*60+rng.IntN((hi-lo)*60)) * time.Second }
		switch {
		case i == urgent:
			reply(f, minutes(1, 3), "9")
			reply(f, minutes(4, 6), "Water is pouring through the kitchen ceiling!!")
		case stops < 3:
			stops++
			reply(f, minutes(2, 15), "STOP")
		case stops == 3:
			// A possible opt-out: the card asks staff to decide.
			stops++
			reply(f, minutes(2, 15), "wrong number, who is this?")
		case rng.Float64() < 0.45:
			texts, digits := lettingsTexts, []string{"1", "1", "1", "3"}
			if f.Line == maint {
				texts, digits = maintenanceTexts, []string{"2", "2", "2", "3"}
			}
			if rng.Float64() < 0.65 {
				reply(f, minutes(1, 20), digits[rng.IntN(len(digits))])
				if rng.Float64() < 0.3 {
					reply(f, minutes(21, 40), texts[rng.IntN(len(texts))])
				}
			} else {
				reply(f, minutes(1, 25), texts[rng.IntN(len(texts))])
			}
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At.Before(steps[j].At) })
	return steps
}

// pickLine sends six calls in ten to the first line (lettings), the rest
// to the others.
func pickLine(cfg *config.Config, rng *rand.Rand) string {
	if len(cfg.Lines) == 1 || rng.Float64() < 0.6 {
		return cfg.Lines[0].Number
	}
	return cfg.Lines[1+rng.IntN(len(cfg.Lines)-1)].Number
}

// replayDay is the midnight (in loc) of the day a replay plays: today while
// its 08:00 is still ahead, else tomorrow. Every step is then ahead of the
// clock, so each call and text happens at its own time and Ringback's
// answers to it are dated as they would be on a real day.
func replayDay(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	if !now.Before(day.Add(8 * time.Hour)) {
		day = time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
	}
	return day
}

// advanceTo moves the demo clock forward to at the way time passes: never
// past a side effect Ringback has due (a text-back, a reminder) before that
// one is done, so what Ringback records happens at its own time, not
// whenever the replay next jumps.
func (s *Sandbox) advanceTo(ctx context.Context, at time.Time) error {
	for {
		if s.pending != nil {
			if err := s.settle(ctx); err != nil {
				return err
			}
		}
		now := s.opt.Clock.Now()
		if !at.After(now) {
			return nil
		}
		to := at
		if s.pending != nil {
			_, next, err := s.pending(ctx, now)
			if err != nil {
				return err
			}
			if !next.IsZero() && next.After(now) && next.Before(at) {
				to = next
			}
		}
		s.opt.Clock.Advance(to.Sub(now))
	}
}

// settlePoll is how often the replay looks whether Ringback has done what
// was due.
const settlePoll = 5 * time.Millisecond

// settle waits until Ringback has nothing due or running, seen twice in a
// row: a side effect that just finished may queue the next one (a text's
// thread entry) in a commit of its own.
func (s *Sandbox) settle(ctx context.Context) error {
	for idle := 0; ; {
		due, _, err := s.pending(ctx, s.opt.Clock.Now())
		switch {
		case err != nil:
			return err
		case due:
			idle = 0
		default:
			if idle++; idle == 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stop:
			return context.Canceled
		case <-time.After(settlePoll):
		}
	}
}

// apiBusyDay starts the replay of a day (replayDay, in the business's
// zone). Each step moves the demo clock forward to its time, so the day
// plays out at high speed and ends in the evening.
func (s *Sandbox) apiBusyDay(w http.ResponseWriter, r *http.Request) {
	loc := s.location()
	day := replayDay(s.opt.Clock.Now(), loc)
	steps := planBusyDay(day, s.opt.Config, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	s.mu.Lock()
	if s.busy.Running {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, &apiError{status: http.StatusConflict, msg: "a busy day is already being replayed"})
		return
	}
	s.busy = busyProgress{Running: true, Day: day.Format("Monday 2 January"), Total: len(steps)}
	p := s.busy
	s.mu.Unlock()
	s.log.Info("sandbox: replaying a busy day", "day", day.Format(time.DateOnly), "steps", len(steps))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		select {
		case <-s.stop:
		case <-ctx.Done():
		}
	}()
	go func() {
		defer cancel()
		s.replay(ctx, steps)
	}()
	s.hub.notify()
	writeJSON(w, http.StatusAccepted, p)
}

// replay sends each step through the same signed webhooks as the phone.
func (s *Sandbox) replay(ctx context.Context, steps []busyStep) {
	defer func() {
		s.mu.Lock()
		s.busy.Running, s.busy.Finished = false, true
		p := s.busy
		s.mu.Unlock()
		s.hub.notify()
		s.log.Info("sandbox: busy day replayed", "calls", p.Calls, "texts", p.Texts, "errors", p.Errors)
	}()
	tick := time.NewTicker(busyPace)
	defer tick.Stop()
	for _, st := range steps {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.advanceTo(ctx, st.At); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("sandbox: busy day stopped", "error", err)
			}
			return
		}
		var err error
		switch st.Kind {
		case "call":
			_, err = s.reportCall(ctx, st.From, st.Line, st.Status, st.Duration, st.At)
		case "sms":
			_, err = s.sendSMS(ctx, st.From, st.Line, st.Body)
		}
		s.mu.Lock()
		s.busy.Done++
		switch {
		case st.Kind == "call":
			s.busy.Calls++
			if st.Status != "completed" {
				s.busy.Missed++
			}
		default:
			s.busy.Texts++
		}
		if err != nil {
			s.busy.Errors++
		}
		s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("sandbox: busy day step failed", "kind", st.Kind, "error", err)
		}
		s.hub.notify()
	}
}
