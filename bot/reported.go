package bot

import (
	"time"
)

// The window of times a phone system's report is believed in. A call that
// started later than MaxClockAhead from now, or earlier than MaxReportAge
// ago, comes from a wrong clock (a PBX set to 9999, a reset to 1970): its
// time is taken as now, when Ringback learnt of the call, so the case's
// clocks, escalations and the KPIs stay sane. A late but genuine report
// (a spooled webhook, Twilio retrying for hours) keeps its own time.
const (
	MaxClockAhead = 5 * time.Minute
	MaxReportAge  = 7 * 24 * time.Hour
)

// MaxCallSeconds bounds a reported call's duration: Twilio ends calls after
// 24 hours, so anything longer is a wrong number, kept within the bound.
const MaxCallSeconds = 24 * 60 * 60

// ReportedTime is t if it lies in the believed window around now, else now;
// believed says which. The zero time (not reported) is now.
func ReportedTime(t, now time.Time) (at time.Time, believed bool) {
	if t.IsZero() {
		return now, true
	}
	if t.After(now.Add(MaxClockAhead)) || t.Before(now.Add(-MaxReportAge)) {
		return now, false
	}
	return t, true
}

// sane bounds what a call report says about time: its start (ReportedTime)
// and its duration (0 to MaxCallSeconds).
func (b *Bot) sane(r CallReport, now time.Time) CallReport {
	at, believed := ReportedTime(r.StartedAt, now)
	if !believed {
		b.log.Info("call time outside the believed window: taken as now", "call_sid", r.SID, "reported", r.StartedAt.UTC().Format(time.RFC3339))
	}
	r.StartedAt = at
	r.Duration = min(max(r.Duration, 0), MaxCallSeconds)
	return r
}
