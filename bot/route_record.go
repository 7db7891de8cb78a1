package bot

import (
	"context"
	"fmt"
	"time"

	"ringback/store"
)

// RecordRoute records a call that was routed at `at` from the configuration
// alone because the store was unreachable (the webhook spool replays it
// later). It records what RouteCall would have recorded then: whether the
// line was in hours at the time, and when the call started. Idempotent on
// the call's SID.
func (b *Bot) RecordRoute(ctx context.Context, sid, from, to string, at time.Time) error {
	if sid == "" {
		return fmt.Errorf("%w: call without id", ErrBadInput)
	}
	lineNum, err := b.lineNumber(to)
	if err != nil {
		return err
	}
	caller, err := b.callerNumber(from)
	if err != nil {
		return err
	}
	line, routed := b.line(lineNum)
	if !routed {
		return nil
	}
	inHours := line.InHours(at)
	status := statusRouteAfterHours
	if inHours {
		status = statusRouteRing
	}
	now := b.clock.Now()
	call := store.Call{
		SID: sid, Provider: "twilio", LineNumber: lineNum, Routed: true, CallerNumber: caller, Status: status,
		AfterHours: !inHours, StartedAt: at, CreatedAt: now, UpdatedAt: now,
	}
	_, err = b.store.InsertCall(ctx, &call) // a call recorded since finds its row: nothing to add
	return err
}
