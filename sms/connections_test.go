package sms_test

import (
	"context"
	"testing"
	"time"

	"ringback/internal/remote/remotetest"
	"ringback/sms"
	"ringback/sms/internal/smstest"
)

// The outbox sends up to its text lane's concurrency (64 by default) at
// once, again and again. Each send leaves its connection for the next
// rather than opening a new one (against Twilio: a TLS handshake per text)
// and closing it after.
func TestTextsKeepTheirConnections(t *testing.T) {
	twilio := smstest.Server(t)
	srv, opened := remotetest.Server(t, 30*time.Millisecond, twilio.Handler())
	c := sms.New(smstest.AccountSID, smstest.AuthToken, srv.URL)
	remotetest.Waves(t, 3, 48, func() error {
		_, err := c.Send(context.Background(), textback())
		return err
	})
	if n := opened.Load(); n > 56 {
		t.Fatalf("144 texts sent 48 at a time opened %d connections to Twilio, want at most 56", n)
	}
}
