package sms

import (
	"net/url"
	"strconv"

	"ringback/bot"
)

// Twilio's words for where a message stands, translated for the bot. A
// status not listed here (an inbound message's, or one Twilio adds later)
// means nothing to an outgoing text.
var messageStates = map[string]bot.SMSState{
	"accepted":            bot.SMSAccepted,
	"scheduled":           bot.SMSScheduled,
	"queued":              bot.SMSQueued,
	"sending":             bot.SMSSending,
	"sent":                bot.SMSSent,
	"delivered":           bot.SMSDelivered,
	"partially_delivered": bot.SMSDelivered,
	"read":                bot.SMSRead,
	"undelivered":         bot.SMSUndelivered,
	"failed":              bot.SMSFailed,
	"canceled":            bot.SMSCanceled,
}

// messageState is the bot's word for a Twilio message status ("" unknown).
func messageState(status string) bot.SMSState { return messageStates[status] }

// acceptedState is the state of a message Twilio holds: "accepted" when its
// status is one the bot does not know.
func acceptedState(status string) bot.SMSState {
	if s := messageState(status); s != "" {
		return s
	}
	return bot.SMSAccepted
}

// problem is what a Twilio error code, from a refused send or a failed
// delivery, teaches about the number.
func problem(code int) bot.SMSProblem {
	switch code {
	case CodeUnsubscribed:
		return bot.SMSProblemUnsubscribed
	case CodeNotMobile, CodeLandline:
		return bot.SMSProblemNotTextable
	case CodeUnreachable:
		return bot.SMSProblemUnreachable
	case CodeUnknownPhone:
		return bot.SMSProblemUnknownNumber
	case CodeBlocked, CodeFiltered:
		return bot.SMSProblemFiltered
	case CodeTollFreeUnverified, CodeUnregistered:
		return bot.SMSProblemSenderUnregistered
	}
	return bot.SMSProblemOther
}

// ReadReceipt translates the form of a message status callback
// (MessageSid, MessageStatus or the older SmsStatus, ErrorCode). ok is
// false when the form names no message or no status.
func ReadReceipt(form url.Values) (r bot.SMSReceipt, ok bool) {
	status := form.Get("MessageStatus")
	if status == "" {
		status = form.Get("SmsStatus")
	}
	r = bot.SMSReceipt{SID: form.Get("MessageSid"), State: messageState(status), Code: form.Get("ErrorCode")}
	if code, err := strconv.Atoi(r.Code); err == nil {
		r.Problem = problem(code)
	}
	return r, r.SID != "" && status != ""
}

// callMissed are the call and <Dial> statuses that mean nobody answered.
var callMissed = map[string]bool{"no-answer": true, "busy": true, "failed": true, "canceled": true}

// DialOutcome is what a <Dial>'s DialCallStatus says of the people rung:
// missed unless one of them answered.
func DialOutcome(status string) bot.CallOutcome {
	if callMissed[status] {
		return bot.CallMissed
	}
	return bot.CallAnswered
}

// CallOutcome is what a call's CallStatus says: missed, over (whether a
// person spoke is the bot's to work out), or not over yet.
func CallOutcome(status string) bot.CallOutcome {
	switch {
	case callMissed[status]:
		return bot.CallMissed
	case status == "completed":
		return bot.CallEnded
	}
	return bot.CallInProgress
}
