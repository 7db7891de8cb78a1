package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Twilio error codes a caller acts on.
const (
	CodeUnsubscribed = 21610 // recipient replied STOP: mark opted out
	CodeNotMobile    = 21614 // 'To' number is not a valid mobile number: mark not textable
	CodeLandline     = 30006 // landline or unreachable carrier: mark not textable
	CodeInvalidTo    = 21211 // 'To' is not a valid phone number
	CodeUnreachable  = 30003 // handset off or out of coverage: may work later
	CodeBlocked      = 30004 // message blocked (by the recipient or the carrier)
	CodeUnknownPhone = 30005 // unknown or inactive handset
	CodeFiltered     = 30007 // carrier filtering (spam)
	// The sending number is not registered for business texting: every
	// text from it fails until the operator registers it.
	CodeTollFreeUnverified = 30032 // toll-free number not verified
	CodeUnregistered       = 30034 // US 10DLC number not registered (A2P)
)

// Error is what Twilio said when it refused a request.
type Error struct {
	HTTPStatus int
	Code       int // Twilio error code, e.g. 21610; 0 when the body was not Twilio's
	Message    string
	RetryAfter time.Duration // from a 429's Retry-After header, else 0
}

// Error reads like "sms: twilio 21610: Attempt to send to unsubscribed recipient".
func (e *Error) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("sms: twilio HTTP %d: %s", e.HTTPStatus, e.Message)
	}
	return fmt.Sprintf("sms: twilio %d: %s", e.Code, e.Message)
}

// Refused reports an attempt that certainly left nothing at Twilio: it
// answered 429 Too Many Requests or 503 Service Unavailable (the request
// was not processed), or the connection was refused before any request.
// A timeout, a cut connection or another 5xx may have created the message.
func Refused(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus == http.StatusServiceUnavailable
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// Temporary reports whether retrying may succeed: true for a 429 or 5xx
// *Error and for network failures, timeouts and cancellations (those are not
// *Error); false for any other *Error (a 4xx refusal will be refused again)
// and for errors of configuration such as a malformed API URL.
func Temporary(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	// Dial, read and write failures (DNS included) arrive as *net.OpError.
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
