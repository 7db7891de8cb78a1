package sms_test

import (
	"net/url"
	"testing"

	"ringback/bot"
	"ringback/sms"
)

// The bot hears Twilio's receipts in its own words: what a status means for
// a text, and what an error code teaches about the number.
func TestReadReceiptTranslatesTwiliosWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		form url.Values
		want bot.SMSReceipt
		ok   bool
	}{
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}, bot.SMSReceipt{SID: "SM1", State: bot.SMSDelivered}, true},
		{url.Values{"MessageSid": {"SM1"}, "SmsStatus": {"sent"}}, bot.SMSReceipt{SID: "SM1", State: bot.SMSSent}, true},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30006"}},
			bot.SMSReceipt{SID: "SM1", State: bot.SMSUndelivered, Problem: bot.SMSProblemNotTextable, Code: "30006"}, true},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"21614"}},
			bot.SMSReceipt{SID: "SM1", State: bot.SMSFailed, Problem: bot.SMSProblemNotTextable, Code: "21614"}, true},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"21610"}},
			bot.SMSReceipt{SID: "SM1", State: bot.SMSFailed, Problem: bot.SMSProblemUnsubscribed, Code: "21610"}, true},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}},
			bot.SMSReceipt{SID: "SM1", State: bot.SMSUndelivered, Problem: bot.SMSProblemUnreachable, Code: "30003"}, true},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30007"}},
			bot.SMSReceipt{SID: "SM1", State: bot.SMSUndelivered, Problem: bot.SMSProblemFiltered, Code: "30007"}, true},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30008"}},
			bot.SMSReceipt{SID: "SM1", State: bot.SMSUndelivered, Code: "30008"}, true},
		// A status Twilio may add later means nothing to the bot, but is no error.
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"receiving"}}, bot.SMSReceipt{SID: "SM1"}, true},
		{url.Values{"MessageSid": {"SM1"}}, bot.SMSReceipt{SID: "SM1"}, false},
		{url.Values{"MessageStatus": {"sent"}}, bot.SMSReceipt{State: bot.SMSSent}, false},
	} {
		got, ok := sms.ReadReceipt(tc.form)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ReadReceipt(%v) = %+v, %v; want %+v, %v", tc.form, got, ok, tc.want, tc.ok)
		}
	}
}

// Each failure code staff act on differently has a word of its own.
func TestReceiptProblemPerCode(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bot.SMSProblem{
		"30003": bot.SMSProblemUnreachable, "30005": bot.SMSProblemUnknownNumber, "30006": bot.SMSProblemNotTextable,
		"30007": bot.SMSProblemFiltered, "21610": bot.SMSProblemUnsubscribed,
		"30032": bot.SMSProblemSenderUnregistered, "30034": bot.SMSProblemSenderUnregistered,
	} {
		got, _ := sms.ReadReceipt(url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "ErrorCode": {code}})
		if got.Problem != want {
			t.Errorf("error %s: problem %q, want %q", code, got.Problem, want)
		}
	}
}
