package bot

import (
	"time"

	"ringback/config"
)

// The rules that judge a call, shared by live reports (ReportCall) and
// imported call logs (bot/calllog), so a call counts the same either way.

// Missed reports whether the outcome alone says nobody answered: a missed
// call or a voicemail. CallEnded decides nothing by itself: ReportCall asks
// what Ringback's own routing was doing.
func (o CallOutcome) Missed() bool {
	return o == CallMissed || o == CallVoicemail
}

// callStatuses are the words phone systems report a finished call with,
// squashed (letters and digits, lower case): Twilio's call statuses, the
// generic webhook's and those of common call-log exports.
var callStatuses = map[string]CallOutcome{
	"answered": CallAnswered, "connected": CallAnswered,
	"completed": CallEnded,
	"missed":    CallMissed, "missedcall": CallMissed, "noanswer": CallMissed, "notanswered": CallMissed,
	"unanswered": CallMissed, "abandoned": CallMissed, "busy": CallMissed, "failed": CallMissed,
	"canceled": CallMissed, "cancelled": CallMissed,
	"voicemail": CallVoicemail, "vm": CallVoicemail,
}

// CallStatusOutcome reads a finished call's status word ("no-answer",
// "Busy", "Voicemail", "completed"…). ok is false for a word that says
// neither answered nor missed, or a call still in progress ("ringing").
func CallStatusOutcome(status string) (o CallOutcome, ok bool) {
	o, ok = callStatuses[squash(status)]
	return o, ok
}

// AfterHours reports whether a call that started at t to line came outside
// the line's open hours. A call to no configured line (nil) is not.
func AfterHours(line *config.Line, t time.Time) bool {
	return line != nil && !line.InHours(t)
}
