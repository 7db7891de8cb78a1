package handlers

import (
	"slices"
	"testing"
)

// A spool's keys replay callers first, then texts' receipts, each in the
// order they arrived; a receipt saying its text bounced keeps its place
// among the callers' (the caller's next text-back must know of it).
func TestSpoolReplayOrderPutsCallersBeforeReceipts(t *testing.T) {
	files := []spoolFile{
		{name: "1.json", key: "sms:SM1"},
		{name: "2.json", key: "caller:+447700900001"},
		{name: "3.json", key: "sms:SM2"},
		{name: "4.json", key: "sms:SM2", bounce: true},
		{name: "5.json", key: "sms:SM3"},
		{name: "6.json", key: "caller:+447700900002"},
		{name: "7.json", key: "sms:SM1"},
	}
	got, _ := replayOrder(files)
	want := []string{"caller:+447700900001", "sms:SM2", "caller:+447700900002", "sms:SM1", "sms:SM3"}
	if !slices.Equal(got, want) {
		t.Errorf("replay order %v, want %v", got, want)
	}
	for _, c := range []struct {
		path, body string
		bounce     bool
	}{
		{"/twilio/sms/status", "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30006", true},
		{"/twilio/sms/status", "MessageSid=SM1&SmsStatus=failed", true},
		{"/twilio/sms/status", "MessageSid=SM1&MessageStatus=delivered", false},
		{"/twilio/sms", "MessageSid=SM1&MessageStatus=failed", false},
	} {
		if _, got := classify(c.path, []byte(c.body)); got != c.bounce {
			t.Errorf("classify(%s, %s) bounce %v, want %v", c.path, c.body, got, c.bounce)
		}
	}
}
