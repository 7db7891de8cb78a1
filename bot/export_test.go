package bot

import (
	"context"
	"time"

	"ringback/store"
)

// RetryIn is retryIn, for the outbox tests outside the package.
var RetryIn = retryIn

// SMSAccepted is smsAccepted: what a worker records once the provider took
// text m (two workers whose claims overlapped may both get here).
func (b *Bot) SMSAccepted(ctx context.Context, m store.Message, sent SentSMS) error {
	return b.smsAccepted(ctx, m, sent)
}

// SetPoll sets how often w asks the database about every lane (2 s), so
// that a test tells a row started by a wake-up from one the poll found.
func (w *Worker) SetPoll(d time.Duration) { w.poll = d }

// EndWithPost ends the row ctx's performer runs as the chat performer ends
// a thread entry: its post (key, on Slack) saved and the row marked done in
// one statement, which passes on the case's next entry and tells whether
// one waits (store.SaveChatPostPassing).
func EndWithPost(ctx context.Context, s *store.Store, key string) error {
	c := ctx.Value(claimedKey{}).(*claimed)
	pd, err := s.SaveChatPostPassing(ctx, "slack", key, "C1", "1.1", c.it, c.endsAt(), c.passOn(c.it.Kind, c.it.Kind))
	c.passed(pd)
	return err
}
