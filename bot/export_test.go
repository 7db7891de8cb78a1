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
