package chat

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Period is [From, To) with words for people.
type Period struct {
	From, To time.Time
	Label    string
}

// Ratio is a KPI share: Num of Den.
type Ratio struct{ Num, Den int }

// Percent is 100·Num/Den.
func (r Ratio) Percent() float64 { return 100 * float64(r.Num) / float64(r.Den) }

// String reads "12 / 15 (80%)".
func (r Ratio) String() string {
	return fmt.Sprintf("%d / %d (%.0f%%)", r.Num, r.Den, math.Round(r.Percent()))
}

// Spread summarises durations: how many, their median and their p90.
type Spread struct {
	Count  int
	Median time.Duration
	P90    time.Duration
}

// CategorySpread is the time to first human contact of one category's cases.
type CategorySpread struct {
	Category string // key; "" for cases nobody categorised
	Label    string
	Time     *Spread // nil: no case of the category was contacted
}

// Figures are the KPIs of one line, or of every line together.
type Figures struct {
	// Calls is every inbound call reported (answered too); Missed those
	// classified missed. MissRate is Missed / Calls.
	Calls    int
	Missed   int
	MissRate *Ratio
	// AfterHours: missed calls outside the line's business hours / missed calls.
	AfterHours *Ratio
	// Cases is how many cases were opened in the period: the denominator of
	// the ratios "/ cases".
	Cases int
	// TextBackWithin90s: cases whose text-back Twilio accepted ≤ 90 s after
	// the first missed call / cases where a text-back was due (kpiTextBackDue).
	TextBackWithin90s *Ratio
	// CallerReplies: cases with ≥ 1 SMS from the caller (any: a triage
	// digit, words, a keyword such as STOP) / cases whose text-back Twilio
	// accepted (the numerator counts only those cases).
	CallerReplies *Ratio
	// TimeToClaim: claimed_at − created_at of the claimed cases.
	TimeToClaim *Spread
	// TimeToContact: first_contact_at − created_at per category, in the
	// configuration's order (every configured category, then others and
	// uncategorised ones when they have data); TimeToContactAll: all of them.
	TimeToContact    []CategorySpread
	TimeToContactAll *Spread
	// SLAMet: cases whose first human contact came within their
	// category's contact_within of the first missed call (uncategorised: 30
	// min), or by 15 min after the callback slot the caller picked when that
	// is later / cases other than spam and wrong_number, leaving out a case
	// not contacted whose time runs out after the period's end.
	SLAMet *Ratio
	// TriagedWithin5m: cases categorised ≤ 5 min after creation / cases.
	TriagedWithin5m *Ratio
	// ContactRate: closed cases with outcome reached, booked or resolved /
	// closed cases other than spam and wrong_number (a case flagged spam is
	// left out whatever its outcome).
	ContactRate *Ratio
	// FirstCycle: the same numerator restricted to exactly one human
	// contact attempt / the same denominator.
	FirstCycle *Ratio
	// Repeat24h: cases the caller called or texted again within 24 h of
	// creation and before the first human contact / cases. Any SMS counts,
	// a triage digit too: DESIGN.md counts every contact from the caller.
	Repeat24h *Ratio
	// Escalated: cases with ≥ 1 escalation / cases. EscalationLevels counts,
	// per level, the cases that reached it (a case escalated to levels 1 and
	// 2 counts once in each; a repeated step counts once).
	Escalated        *Ratio
	EscalationLevels map[int]int
	// PickerUsed: cases whose caller picked a callback slot on the picker
	// / cases whose caller was texted a picker link ({{callback_link}}).
	PickerUsed *Ratio
	// CallbacksKept: scheduled callbacks with a logged callback (Log
	// callback, any result) from 10 min before to 15 min after the slot /
	// scheduled callbacks. A scheduled callback is a caller's latest pick
	// whose slot falls in the period, whenever its case was opened, and
	// whose window has ended by the period's end; left out are spam, wrong
	// numbers, and cases closed reached, booked or resolved before the
	// window opened (no callback was needed any more).
	CallbacksKept *Ratio
	// Backlog: cases open at the period's end (created before To and not
	// closed before To, whenever created); OldestOpen is the oldest one's
	// age at To (nil: none open).
	Backlog    int
	OldestOpen *time.Duration
	// PeakHours counts missed calls by [time.Weekday][hour] in the line's
	// time zone.
	PeakHours [7][24]int
}

// LineKPIs are one line's figures.
type LineKPIs struct {
	Name   string // the configured name; the number for a line no longer configured
	Number string
	Figures
}

// KPIs are a period's figures, in total and per line: configured lines in
// the configuration's order, then numbers no longer configured that still
// have data.
type KPIs struct {
	Period Period
	Total  Figures
	Lines  []LineKPIs
}

// Line returns a line's figures by name (any case).
func (k KPIs) Line(name string) (LineKPIs, bool) {
	for _, l := range k.Lines {
		if strings.EqualFold(l.Name, name) {
			return l, true
		}
	}
	return LineKPIs{}, false
}
