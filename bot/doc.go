// Package bot decides: it turns what happened (a missed call, a caller's
// text, a click) into changes to cases and into side effects queued in the
// outbox, and it runs the background machinery that performs them. It knows
// no chat platform and no phone provider: adapters translate for it.
package bot
