package bot

import (
	"context"
	"errors"
	"fmt"
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
		b.log.Warn("recording for an unknown call", "call_sid", sid)
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
	RecentCalls(ctx context.Context, to string, since time.Time) ([]ListedCall, error)
}

// ListedCall is one call as the provider lists it.
type ListedCall struct {
	SID, From, To, Status, Direction string
	StartTime                        time.Time
	Duration                         int
}

// Reconcile asks the provider for each line's calls since `since` and
// ingests the missed ones whose webhook never arrived. Reports are
// idempotent, so calls seen before change nothing.
func (b *Bot) Reconcile(ctx context.Context, lister CallLister, since time.Time) (ingested int, err error) {
	for _, line := range b.cfg.Lines {
		calls, err := lister.RecentCalls(ctx, line.Number, since)
		if err != nil {
			return ingested, fmt.Errorf("bot: reconcile %s: %w", line.Name, err)
		}
		for _, c := range calls {
			if c.Direction != "" && c.Direction != "inbound" {
				continue
			}
			switch c.Status {
			case "no-answer", "busy", "failed", "canceled":
			default:
				continue
			}
			if _, err := b.store.CallBySID(ctx, c.SID); err == nil {
				continue
			}
			res, err := b.ReportCall(ctx, CallReport{
				Provider: "twilio", SID: c.SID, From: c.From, To: line.Number, Status: c.Status,
				Outcome: CallMissed, StartedAt: c.StartTime, Duration: c.Duration,
			})
			if errors.Is(err, ErrBadInput) {
				b.log.Warn("reconcile: skipped a call", "call_sid", c.SID, "error", err)
				continue
			}
			if err != nil {
				return ingested, err
			}
			if res.Missed {
				ingested++
				b.log.Info("reconcile: ingested a missed call whose webhook never arrived", "call_sid", c.SID, "case_id", res.CaseID)
			}
		}
	}
	return ingested, nil
}
