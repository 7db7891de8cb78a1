package chat

import (
	"errors"
	"fmt"
	"time"
)

// RetryAfterError asks for another attempt after a delay chosen by the
// remote (Slack's and Twilio's Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter wraps err to be retried after d.
func RetryAfter(d time.Duration, err error) error { return &RetryAfterError{After: d, Err: err} }

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }

func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (an invalid number, a
// revoked token): the row goes dead at once.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
