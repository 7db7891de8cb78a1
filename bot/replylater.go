package bot

import (
	"context"
	"errors"
	"time"

	"ringback/bot/chat"
	"ringback/config"
	"ringback/store"
)

// EntryReplyScheduled is the thread entry of a reply held for the caller's
// window.
const EntryReplyScheduled = "reply_scheduled"

// ReplyTiming is chat's word for what a Reply needs to know of quiet hours.
type ReplyTiming = chat.ReplyTiming

// Staff's two answers to a Reply outside the caller's window.
const (
	ReplyNow   = chat.ReplyNow
	ReplyLater = chat.ReplyLater
)

// ReplyTiming says whether a reply on case id would reach the caller in
// their quiet hours, with their local time and the window's next opening.
// Urgent cases are exempt: their replies are safety texts.
func (b *Bot) ReplyTiming(ctx context.Context, id int64) (ReplyTiming, error) {
	c, err := b.store.CaseByID(ctx, id)
	if err != nil {
		return ReplyTiming{}, err
	}
	line, ok := b.line(c.LineNumber)
	if !ok || c.Urgent || c.Withheld() {
		return ReplyTiming{}, nil
	}
	now := b.clock.Now()
	w := QuietHoursAt(c.CallerNumber, line, now)
	if w.Allowed {
		return ReplyTiming{}, nil
	}
	t := ReplyTiming{Quiet: true, CallerNow: now.In(w.Zone), SendAt: w.At.In(w.Zone), Window: w.Window()}
	if w.State != "" {
		t.Law = stricterStates[w.State].Name + " law"
	}
	return t, nil
}

// ScheduleReply texts the caller an approved template as the actor at the
// next instant their quiet hours allow: now when they allow it already (or
// the case is urgent). The reply is an outbox row that runs at that
// instant; it counts as human contact once the provider takes it.
func (b *Bot) ScheduleReply(ctx context.Context, id int64, a Actor, key string) (store.Case, error) {
	return b.sendReply(ctx, id, a, key, true)
}

// replyWindow is when a reply staff chose to send "at the window" goes, and
// its thread entry when that is not now.
func (b *Bot) replyWindow(c store.Case, line *config.Line, a Actor, body string, now time.Time) (time.Time, *Entry) {
	w := QuietHoursAt(c.CallerNumber, line, now)
	if w.Allowed || c.Urgent {
		return now, nil
	}
	return w.At, &Entry{Kind: EntryReplyScheduled, Actor: a.ID,
		Text: Plainf("scheduled a reply for %s (caller's time)", w.At.In(w.Zone).Format("15:04")), Quote: body}
}

var errQuietHours = errors.New("bot: the caller is in their quiet hours")

// stillQuiet holds a scheduled reply that falls due outside the caller's
// window (the process was down when it opened, or it failed until the
// window closed) until the window opens again, spending no attempt.
func (b *Bot) stillQuiet(m store.Message, job SMSJob) error {
	if !job.Scheduled {
		return nil
	}
	line, ok := b.line(m.LineNumber)
	if !ok {
		return nil
	}
	now := b.clock.Now()
	if w := QuietHoursAt(m.CallerNumber, line, now); !w.Allowed {
		return RetryAfter(w.At.Sub(now), errQuietHours)
	}
	return nil
}
