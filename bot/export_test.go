package bot

import (
	"context"

	"ringback/store"
)

// RetryIn is retryIn, for the outbox tests outside the package.
var RetryIn = retryIn

// SMSAccepted is smsAccepted: what a worker records once the provider took
// text m (two workers whose claims overlapped may both get here).
func (b *Bot) SMSAccepted(ctx context.Context, m store.Message, sent SentSMS) error {
	return b.smsAccepted(ctx, m, sent)
}
