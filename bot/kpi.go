package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
)

// This file computes the KPIs of DESIGN.md ("KPI definitions") for a
// period, in total and per line. The store reads the raw rows; every
// duration, median and percentile is computed here.
//
// Words used throughout:
//   - "the period's calls" are the routed calls (to a configured line) that
//     started in [From, To); calls to unknown numbers belong to no line.
//   - "the period's cases" are the cases created in [From, To), whatever
//     happened to them since: each case counts once, in the period it was
//     opened, with what is known of it now (a case opened on Sunday and
//     closed on Monday counts as closed in Sunday's week).
//   - median: the middle value, or the mean of the two middle ones for an
//     even count; p90: nearest rank, the ⌈0.9·n⌉-th smallest value.
//   - a ratio or a time with no data (denominator 0, no values) is nil.

var isoWeekSpec = regexp.MustCompile(`^(\d{4})-?[Ww](\d{1,2})$`)

// ISOWeek reads a week as staff type it, in loc (the business's time zone):
// "2026-W46" is Monday 9 November 2026 00:00 to Monday 16 November 00:00;
// "last" is the last full week; "" (or "this") is the current week so far,
// Monday 00:00 to now. A week that has not ended yet ends now; one that has
// not started is refused.
func ISOWeek(spec string, now time.Time, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	now = now.In(loc)
	thisMonday := isoMonday(now)
	var from time.Time
	switch s := strings.ToLower(strings.TrimSpace(spec)); s {
	case "", "this":
		from = thisMonday
	case "last":
		from = time.Date(thisMonday.Year(), thisMonday.Month(), thisMonday.Day()-7, 0, 0, 0, 0, loc)
	default:
		m := isoWeekSpec.FindStringSubmatch(strings.TrimSpace(spec))
		if m == nil {
			return Period{}, fmt.Errorf("bot: %q is not a week: write it like 2026-W46", spec)
		}
		year, _ := strconv.Atoi(m[1])
		week, _ := strconv.Atoi(m[2])
		if week < 1 || week > isoWeeksIn(year) {
			return Period{}, fmt.Errorf("bot: %d has no week %d", year, week)
		}
		jan4 := time.Date(year, time.January, 4, 0, 0, 0, 0, loc)
		w1 := isoMonday(jan4)
		from = time.Date(w1.Year(), w1.Month(), w1.Day()+7*(week-1), 0, 0, 0, 0, loc)
	}
	to := time.Date(from.Year(), from.Month(), from.Day()+7, 0, 0, 0, 0, loc)
	year, week := from.ISOWeek()
	name := fmt.Sprintf("%d-W%02d", year, week)
	if from.After(now) {
		return Period{}, fmt.Errorf("bot: week %s has not started yet", name)
	}
	if to.After(now) {
		return Period{From: from, To: now, Label: fmt.Sprintf("%s so far (%s – %s)",
			name, from.Format("Mon 2 Jan"), now.Format("Mon 2 Jan 15:04"))}, nil
	}
	last := to.AddDate(0, 0, -1)
	return Period{From: from, To: to, Label: fmt.Sprintf("%s (%s – %s)",
		name, from.Format("Mon 2 Jan"), last.Format("Mon 2 Jan 2006"))}, nil
}

// mondayOf is 00:00 on the Monday of t's ISO week, in t's location.
func isoMonday(t time.Time) time.Time {
	back := (int(t.Weekday()) + 6) % 7
	return time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, t.Location())
}

// isoWeeksIn is 52 or 53: 28 December always falls in the year's last week.
func isoWeeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

func kpiRatio(num, den int) *Ratio {
	if den == 0 {
		return nil
	}
	return &Ratio{Num: num, Den: den}
}

// spread is nil for no values. It sorts ds.
func kpiSpread(ds []time.Duration) *Spread {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	n := len(ds)
	med := ds[n/2]
	if n%2 == 0 {
		med = (ds[n/2-1] + ds[n/2]) / 2
	}
	rank := int(math.Ceil(0.9 * float64(n))) // nearest rank, 1-based
	return &Spread{Count: n, Median: med, P90: ds[rank-1]}
}

// Limits of the timed KPIs (DESIGN.md).
const (
	kpiTextBackLimit = 90 * time.Second
	kpiTriageLimit   = 5 * time.Minute
	kpiRepeatWindow  = 24 * time.Hour
	// A scheduled callback is kept when a callback is logged in this
	// window around the slot the caller picked.
	kpiCallbackEarly = 10 * time.Minute
	kpiCallbackLate  = 15 * time.Minute
)

// KPIs computes the figures of period p.
func (b *Bot) KPIs(ctx context.Context, p Period) (KPIs, error) {
	d, err := b.store.KPIData(ctx, p.From, p.To)
	if err != nil {
		return KPIs{}, err
	}
	out := KPIs{Period: p}

	// One accumulator per line, plus one for the total.
	index := map[string]int{}
	var accs []*kpiAcc
	lineOf := func(number string) *kpiAcc {
		if i, ok := index[number]; ok {
			return accs[i]
		}
		a := &kpiAcc{number: number, name: number, loc: b.kpiZone()}
		if l, ok := b.line(number); ok {
			a.name = l.Name
			if l.Timezone != nil {
				a.loc = l.Timezone
			}
		}
		index[number] = len(accs)
		accs = append(accs, a)
		return a
	}
	for _, l := range b.cfg.Lines {
		lineOf(l.Number)
	}
	configured := len(accs)
	total := &kpiAcc{}
	both := func(number string, f func(a *kpiAcc)) {
		f(total)
		f(lineOf(number))
	}

	for _, c := range d.Calls {
		line := lineOf(c.LineNumber)
		at := c.StartedAt.In(line.loc)
		both(c.LineNumber, func(a *kpiAcc) {
			a.f.Calls++
			if c.Missed {
				a.f.Missed++
				if c.AfterHours {
					a.afterHours++
				}
				a.f.PeakHours[at.Weekday()][at.Hour()]++
			}
		})
	}

	byCase := make(map[int64][]store.KPIActivity, len(d.Cases))
	for _, a := range d.Activity {
		byCase[a.CaseID] = append(byCase[a.CaseID], a)
	}
	for _, c := range d.Cases {
		acts := byCase[c.ID]
		repeat := kpiRepeatContact(c, acts)
		levels := kpiEscalationLevels(acts)
		sla := b.kpiSLA(c, p.To)
		both(c.LineNumber, func(a *kpiAcc) { a.addCase(c, repeat, levels, sla, p.To) })
	}

	for _, s := range d.Scheduled {
		if kept, due := kpiCallbackKept(s, p.To); due {
			both(s.LineNumber, func(a *kpiAcc) {
				a.scheduled++
				if kept {
					a.kept++
				}
			})
		}
	}

	for _, bl := range d.Backlog {
		both(bl.LineNumber, func(a *kpiAcc) {
			a.f.Backlog += bl.Open
			if a.oldest.IsZero() || bl.Oldest.Before(a.oldest) {
				a.oldest = bl.Oldest
			}
		})
	}

	out.Total = total.figures(b.cfg, p)
	// Lines no longer configured (known only from their data) follow the
	// configured ones, by number.
	slices.SortFunc(accs[configured:], func(x, y *kpiAcc) int { return strings.Compare(x.number, y.number) })
	for _, a := range accs {
		out.Lines = append(out.Lines, LineKPIs{Name: a.name, Number: a.number, Figures: a.figures(b.cfg, p)})
	}
	return out, nil
}

func (b *Bot) kpiZone() *time.Location {
	if b.cfg.Business.Timezone != nil {
		return b.cfg.Business.Timezone
	}
	return time.UTC
}

// kpiAcc gathers one line's (or the total's) raw counts and durations.
type kpiAcc struct {
	number, name string
	loc          *time.Location

	f                       Figures
	afterHours              int
	textBackDue, textBack90 int
	gotTextBack, replied    int
	claim, contactAll       []time.Duration
	contact                 map[string][]time.Duration
	triaged                 int
	closed, reached, first  int
	slaDue, slaMet          int
	repeat, escalated       int
	linked, picked          int
	scheduled, kept         int
	levels                  map[int]int
	oldest                  time.Time
}

func (a *kpiAcc) addCase(c store.KPICase, repeat bool, levels []int, sla kpiSLAState, to time.Time) {
	a.f.Cases++
	if sla != slaNotDue {
		a.slaDue++
		if sla == slaMet {
			a.slaMet++
		}
	}
	// A case under 90 s old at the period's end ("so far") whose text-back
	// is still on its way has not missed the target yet: it counts once
	// Twilio takes the text or once its 90 s are up.
	undecided := c.TextBackAcceptedAt == nil && to.Sub(c.CreatedAt) < kpiTextBackLimit
	if kpiTextBackDue(c) && !undecided {
		a.textBackDue++
		if c.TextBackAcceptedAt != nil && c.TextBackAcceptedAt.Sub(c.CreatedAt) <= kpiTextBackLimit {
			a.textBack90++
		}
	}
	if c.TextBackAcceptedAt != nil {
		a.gotTextBack++
		if c.CallerTexted {
			a.replied++
		}
	}
	if c.ClaimedAt != nil {
		a.claim = append(a.claim, c.ClaimedAt.Sub(c.CreatedAt))
	}
	if c.FirstContactAt != nil {
		d := c.FirstContactAt.Sub(c.CreatedAt)
		if a.contact == nil {
			a.contact = map[string][]time.Duration{}
		}
		a.contact[c.Category] = append(a.contact[c.Category], d)
		a.contactAll = append(a.contactAll, d)
	}
	if c.CategorizedAt != nil && c.CategorizedAt.Sub(c.CreatedAt) <= kpiTriageLimit {
		a.triaged++
	}
	if c.ClosedAt != nil && !kpiLeftOut(c.Spam, c.Outcome) {
		a.closed++
		if kpiReached(c.Outcome) {
			a.reached++
			if c.ContactAttempts == 1 {
				a.first++
			}
		}
	}
	if repeat {
		a.repeat++
	}
	if c.Linked {
		a.linked++
		if c.Picked {
			a.picked++
		}
	}
	if len(levels) > 0 {
		a.escalated++
		for _, l := range levels {
			if l > 0 {
				if a.levels == nil {
					a.levels = map[int]int{}
				}
				a.levels[l]++
			}
		}
	}
}

func (a *kpiAcc) figures(cfg *config.Config, p Period) Figures {
	f := a.f
	f.MissRate = kpiRatio(f.Missed, f.Calls)
	f.AfterHours = kpiRatio(a.afterHours, f.Missed)
	f.TextBackWithin90s = kpiRatio(a.textBack90, a.textBackDue)
	f.CallerReplies = kpiRatio(a.replied, a.gotTextBack)
	f.TimeToClaim = kpiSpread(a.claim)
	f.TimeToContactAll = kpiSpread(a.contactAll)
	known := map[string]bool{}
	for _, cat := range cfg.Categories {
		known[cat.Key] = true
		f.TimeToContact = append(f.TimeToContact, CategorySpread{Category: cat.Key, Label: cat.Label, Time: kpiSpread(a.contact[cat.Key])})
	}
	var others []string
	for key := range a.contact {
		if !known[key] && key != "" {
			others = append(others, key)
		}
	}
	slices.Sort(others)
	for _, key := range others {
		f.TimeToContact = append(f.TimeToContact, CategorySpread{Category: key, Label: key, Time: kpiSpread(a.contact[key])})
	}
	if ds := a.contact[""]; len(ds) > 0 {
		f.TimeToContact = append(f.TimeToContact, CategorySpread{Category: "", Label: "Uncategorised", Time: kpiSpread(ds)})
	}
	f.TriagedWithin5m = kpiRatio(a.triaged, f.Cases)
	f.SLAMet = kpiRatio(a.slaMet, a.slaDue)
	f.ContactRate = kpiRatio(a.reached, a.closed)
	f.FirstCycle = kpiRatio(a.first, a.closed)
	f.Repeat24h = kpiRatio(a.repeat, f.Cases)
	f.Escalated = kpiRatio(a.escalated, f.Cases)
	f.EscalationLevels = a.levels
	f.PickerUsed = kpiRatio(a.picked, a.linked)
	f.CallbacksKept = kpiRatio(a.kept, a.scheduled)
	if f.Backlog > 0 {
		age := p.To.Sub(a.oldest)
		f.OldestOpen = &age
	}
	return f
}

// kpiTextBackDue says whether a case owed its caller the automatic text-back.
// It was due when Ringback queued one (a messages row of kind textback) and
// did not withdraw it before Twilio took it, or when it would have queued
// one but the template could not be filled (Ringback's mistake, not the
// caller's). It was not due when the number was withheld, on the spam list,
// opted out or untextable, when the line sends none at that hour, within the
// cooldown, when the caller texted in first, or when a queued text was
// withdrawn before sending: canceled because the number opted out or became
// untextable meanwhile, or because the caller's next call was answered.
// A text that Twilio refused (failed) was due. The textback_status words
// matched here are written by textback.go and calls.go.
func kpiTextBackDue(c store.KPICase) bool {
	switch {
	case strings.HasPrefix(c.TextbackStatus, "not sent: template "):
		return true
	case c.TextBacks == 0:
		return false
	case c.TextBackAcceptedAt != nil:
		return true
	case strings.HasPrefix(c.TextbackStatus, "not sent: the caller's next call was answered"):
		return false
	}
	return c.TextBacks > c.TextBacksWithdrawn
}

// kpiRepeatContact: the caller called (a call attached to the case) or texted
// again after the case opened, within 24 h of it and before the first human
// contact. The call or text that opened the case starts at created_at and
// so is not "again".
func kpiRepeatContact(c store.KPICase, acts []store.KPIActivity) bool {
	for _, a := range acts {
		if a.Kind != store.KPIActivityCall && a.Kind != store.KPIActivityText {
			continue
		}
		if !a.At.After(c.CreatedAt) || a.At.Sub(c.CreatedAt) > kpiRepeatWindow {
			continue
		}
		if c.FirstContactAt != nil && !a.At.Before(*c.FirstContactAt) {
			continue
		}
		return true
	}
	return false
}

// kpiLeftOut: a case flagged spam, or closed as spam or a wrong number,
// counts in no rate of reaching callers (DESIGN.md's exclusion).
func kpiLeftOut(spam bool, outcome string) bool {
	return spam || outcome == "spam" || outcome == "wrong_number"
}

// kpiReached: the case was closed having reached the caller.
func kpiReached(outcome string) bool {
	return outcome == "reached" || outcome == "booked" || outcome == "resolved"
}

// kpiCallbackKept says whether scheduled callback s counts by the period's
// end (due) and whether a callback was logged in its window (kept): see
// Figures.CallbacksKept.
func kpiCallbackKept(s store.KPIScheduledCallback, end time.Time) (kept, due bool) {
	if kpiLeftOut(s.Spam, s.Outcome) {
		return false, false
	}
	from, until := s.Slot.Add(-kpiCallbackEarly), s.Slot.Add(kpiCallbackLate)
	for _, at := range s.Attempts {
		if !at.Before(from) && !at.After(until) {
			return true, true
		}
	}
	switch {
	case s.ClosedAt != nil && s.ClosedAt.Before(from) && kpiReached(s.Outcome):
		return false, false
	case until.After(end):
		return false, false // its window is still open
	}
	return false, true
}

// kpiEscalationLevels lists the distinct levels of a case's escalated events
// (data {"level": N, …}); a level that cannot be read is 0, which still
// makes the case escalated.
func kpiEscalationLevels(acts []store.KPIActivity) []int {
	var levels []int
	for _, a := range acts {
		if a.Kind != store.KPIActivityEscalated {
			continue
		}
		var data struct {
			Level float64 `json:"level"`
		}
		_ = json.Unmarshal([]byte(a.Data), &data) // unreadable data: level 0
		l := int(data.Level)
		if !slices.Contains(levels, l) {
			levels = append(levels, l)
		}
	}
	return levels
}

// kpiSLAState is where a case stands against its contact time.
type kpiSLAState int

const (
	slaNotDue kpiSLAState = iota // spam or wrong number, or its time has not run out by the period's end
	slaMissed
	slaMet
)

// kpiSLA says whether the case's first human contact came within its
// category's contact_within of the first missed call (SLA met), or by 15
// minutes after the callback slot the caller picked, when that is later.
// Cases closed as spam or wrong number are not counted, nor a case not yet
// contacted whose time runs out after the period's end.
func (b *Bot) kpiSLA(c store.KPICase, end time.Time) kpiSLAState {
	if kpiLeftOut(c.Spam, c.Outcome) {
		return slaNotDue
	}
	// The category's promise, or the untriaged one (the line's or the
	// config's) for a case nobody categorised.
	line, _ := b.line(c.LineNumber)
	within := b.cfg.DueFor(line, c.Category).ContactWithin
	if c.PickedSlot != nil {
		// The caller chose when to be called: the slot is the promise
		// (with the window a kept callback has).
		within = max(within, c.PickedSlot.Add(kpiCallbackLate).Sub(c.CreatedAt))
	}
	switch {
	case c.FirstContactAt != nil && c.FirstContactAt.Sub(c.CreatedAt) <= within:
		return slaMet
	case c.FirstContactAt == nil && c.CreatedAt.Add(within).After(end):
		return slaNotDue
	}
	return slaMissed
}
