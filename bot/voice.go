package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
)

// VoiceRoute is how an incoming call is routed: ring staff in hours, offer
// the on-call phone after hours, voicemail otherwise.
type VoiceRoute struct {
	Line     *config.Line // nil: the number called is no configured line
	InHours  bool
	Business string
}

// RouteCall decides the route of a call that is ringing now and records the
// call, so that when it ends Ringback knows whether a person could have
// answered it.
func (b *Bot) RouteCall(ctx context.Context, sid, from, to string) (VoiceRoute, error) {
	if sid == "" {
		return VoiceRoute{}, fmt.Errorf("%w: call without id", ErrBadInput)
	}
	lineNum, err := b.lineNumber(to)
	if err != nil {
		return VoiceRoute{}, err
	}
	caller, err := b.callerNumber(from)
	if err != nil {
		return VoiceRoute{}, err
	}
	now := b.clock.Now()
	line, routed := b.line(lineNum)
	r := VoiceRoute{Business: b.cfg.Business.Name}
	if !routed {
		b.log.Warn("call to a number that is no configured line", "line_number", lineNum, "call_sid", sid)
		return r, nil
	}
	r.Line, r.InHours = line, line.InHours(now)
	status := statusRouteAfterHours
	if r.InHours {
		status = statusRouteRing
	}
	call := store.Call{
		SID: sid, Provider: "twilio", LineNumber: lineNum, Routed: true, CallerNumber: caller, Status: status,
		AfterHours: !r.InHours, StartedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	_, err = b.store.InsertCall(ctx, &call) // a retried request finds its row: nothing to add
	return r, err
}

// Voicemail ends the after-hours menu (or a call nobody answered) in
// voicemail: the call is missed.
func (b *Bot) Voicemail(ctx context.Context, sid, from, to, recordingURL, transcript string) (CallResult, error) {
	return b.ReportCall(ctx, CallReport{
		Provider: "twilio", SID: sid, From: from, To: to, Status: "voicemail",
		Outcome: CallVoicemail, VoicemailURL: recordingURL, Transcript: transcript,
	})
}

// AttachRecording adds a recording or transcript that arrives on its own
// (Twilio's transcription callback) to the call's case.
func (b *Bot) AttachRecording(ctx context.Context, sid, recordingURL, transcript string) (CallResult, error) {
	call, err := b.store.CallBySID(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		b.log.Info("recording for an unknown call", "call_sid", sid)
		return CallResult{}, nil
	}
	if err != nil {
		return CallResult{}, err
	}
	return b.ReportCall(ctx, CallReport{
		Provider: call.Provider, SID: sid, From: call.CallerNumber, To: call.LineNumber,
		Outcome: CallVoicemail, VoicemailURL: recordingURL, Transcript: transcript, StartedAt: call.StartedAt,
	})
}

// CallLister lists a line's recent calls at the provider (Twilio's Calls API).
type CallLister interface {
	// RecentCalls lists the calls to a line that started at or after since,
	// every page; legs dialled from another call are left out.
	RecentCalls(ctx context.Context, to string, since time.Time) ([]ListedCall, error)
	// CallLegs lists the legs a call dialled (Ringback's <Dial> to staff).
	CallLegs(ctx context.Context, parentSID string) ([]ListedCall, error)
}

// ListedCall is one call as the provider lists it.
type ListedCall struct {
	SID, From, To, Status, Direction string
	StartTime                        time.Time
	Duration                         int
}

// ReconcileWatermark names the reconciler's watermark row.
const ReconcileWatermark = "twilio_calls"

const (
	// reconcileFirstLookBack is how far the very first pass looks back: a
	// fresh install does not text yesterday's callers.
	reconcileFirstLookBack = 7 * time.Minute
	// reconcileMaxLookBack bounds the outage a pass recovers.
	reconcileMaxLookBack = 24 * time.Hour
	// reconcileOverlap re-reads a little before the watermark: a call's
	// record can show up in the list a moment after it started.
	reconcileOverlap = time.Minute
)

// Reconcile asks the provider for each line's calls since the watermark (the
// last call the previous pass saw, at most 24 h back) and ingests the missed
// ones whose webhooks never arrived, oldest first: no-answer, busy, failed,
// canceled, and calls that ended in Ringback's own flow (voicemail, or the
// caller hung up in the menu) without a staff leg answering. Reports are
// idempotent, so calls seen before change nothing. The watermark moves to
// the newest call seen, but never past a call still in progress.
func (b *Bot) Reconcile(ctx context.Context, lister CallLister) (ingested int, err error) {
	now := b.clock.Now()
	since, err := b.store.Watermark(ctx, ReconcileWatermark)
	switch {
	case errors.Is(err, store.ErrNotFound):
		since = now.Add(-reconcileFirstLookBack)
	case err != nil:
		return 0, fmt.Errorf("bot: reconcile: %w", err)
	case since.Before(now.Add(-reconcileMaxLookBack)):
		b.log.Warn("reconcile: the last pass is more than 24 h old; older calls are not recovered", "watermark", since)
		since = now.Add(-reconcileMaxLookBack)
	}
	mark := since
	var calls []ListedCall
	for _, line := range b.cfg.Lines {
		lc, err := lister.RecentCalls(ctx, line.Number, since.Add(-reconcileOverlap))
		if err != nil {
			return 0, fmt.Errorf("bot: reconcile %s: %w", line.Name, err)
		}
		for _, c := range lc {
			c.To = line.Number
			calls = append(calls, c)
		}
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].StartTime.Before(calls[j].StartTime) })
	var unfinished *time.Time
	for _, c := range calls {
		if c.Direction != "" && c.Direction != "inbound" {
			continue
		}
		if c.StartTime.After(mark) {
			mark = c.StartTime
		}
		n, done, err := b.reconcileCall(ctx, lister, c)
		if err != nil {
			return ingested, err
		}
		ingested += n
		if !done && unfinished == nil {
			unfinished = &c.StartTime
		}
	}
	if unfinished != nil && unfinished.Before(mark) {
		mark = *unfinished
	}
	if err := b.store.SetWatermark(ctx, ReconcileWatermark, mark, now); err != nil {
		return ingested, fmt.Errorf("bot: reconcile: %w", err)
	}
	return ingested, nil
}

// reconcileCall ingests one listed call unless Ringback already knows how it
// ended; done is false while the call is still in progress.
func (b *Bot) reconcileCall(ctx context.Context, lister CallLister, c ListedCall) (ingested int, done bool, err error) {
	outcome := CallMissed
	switch c.Status {
	case "no-answer", "busy", "failed", "canceled":
	case "completed":
		outcome = CallEnded
	default: // queued, ringing, in-progress: not over yet
		return 0, false, nil
	}
	known, err := b.store.CallBySID(ctx, c.SID)
	switch {
	case err == nil && (known.Missed || !callPending(known.Status)):
		return 0, true, nil // its webhooks arrived
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return 0, true, fmt.Errorf("bot: reconcile %s: %w", c.SID, err)
	}
	dialed := false
	if outcome == CallEnded {
		// Twilio answered the call itself to run Ringback's TwiML; a person
		// took it only if one of the legs it dialled to staff was answered.
		legs, err := lister.CallLegs(ctx, c.SID)
		if err != nil {
			return 0, true, fmt.Errorf("bot: reconcile %s: %w", c.SID, err)
		}
		outcome, dialed = CallMissed, len(legs) > 0
		for _, l := range legs {
			if l.Status == "completed" {
				outcome = CallAnswered
			}
		}
	}
	res, err := b.ReportCall(ctx, CallReport{
		Provider: "twilio", SID: c.SID, From: c.From, To: c.To, Status: c.Status,
		Outcome: outcome, StartedAt: c.StartTime, Duration: c.Duration, Dialed: dialed,
	})
	if errors.Is(err, ErrBadInput) {
		b.log.Warn("reconcile: skipped a call", "call_sid", c.SID, "error", err)
		return 0, true, nil
	}
	if err != nil {
		return 0, true, err
	}
	if res.Missed && outcome == CallMissed {
		b.log.Info("reconcile: ingested a missed call whose webhook never arrived", "call_sid", c.SID, "case_id", res.CaseID, "status", c.Status)
		return 1, true, nil
	}
	return 0, true, nil
}

// callPending reports whether a recorded call's status leaves its end
// unknown: Ringback routed it, or only ringing was reported.
func callPending(status string) bool {
	switch status {
	case "", "queued", "initiated", "ringing", "in-progress":
		return true
	}
	return strings.HasPrefix(status, "routing:")
}
