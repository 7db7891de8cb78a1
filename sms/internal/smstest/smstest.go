// Package smstest holds what the tests of sms and of its Twilio stand-in
// share: the test account and line, and a stand-in started for a test.
package smstest

import (
	"testing"

	"ringback/sms"
	"ringback/sms/twiliostandin"
)

// The test account, a line of it and a caller.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "s3cr3tT0ken"
	LineNumber = "+441632960001"
	Caller     = "+447700900123"
)

// Server starts a Twilio stand-in for the test account, closed when the
// test ends.
func Server(t testing.TB) *twiliostandin.Server {
	t.Helper()
	srv := twiliostandin.NewServer(AccountSID, AuthToken)
	t.Cleanup(srv.Close)
	return srv
}

// Setup is Server with a client of it.
func Setup(t testing.TB) (*sms.Client, *twiliostandin.Server) {
	t.Helper()
	srv := Server(t)
	return sms.New(AccountSID, AuthToken, srv.URL), srv
}
