package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ringback/store"
)

// Tick runs the timers once: due escalations, the lines' daily queue
// checks, the weekly digest and, hourly, pruning. The leader calls it every few seconds and
// whenever the clock jumps; everything it starts is durable and keyed, so a
// second leader or a restart never repeats it.
func (b *Bot) Tick(ctx context.Context) error {
	// Each timer runs whatever the others did: a failing one must not stop
	// the rest.
	var errs []error
	if _, err := b.RunEscalations(ctx); err != nil {
		errs = append(errs, fmt.Errorf("bot: escalations: %w", err))
	}
	if err := b.managerRoundUp(ctx); err != nil {
		errs = append(errs, fmt.Errorf("bot: managers' round-up: %w", err))
	}
	if err := b.queueChecks(ctx); err != nil {
		errs = append(errs, fmt.Errorf("bot: queue checks: %w", err))
	}
	if err := b.digestDue(ctx); err != nil {
		errs = append(errs, fmt.Errorf("bot: digest: %w", err))
	}
	if err := b.prune(ctx); err != nil {
		errs = append(errs, fmt.Errorf("bot: prune: %w", err))
	}
	return errors.Join(errs...)
}

// RunTimers calls Tick until ctx ends: every interval, and at once when the
// clock jumps (the demo's clock control).
func (b *Bot) RunTimers(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	jumped := jumps(b.clock)
	for {
		if err := b.Tick(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("timers failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-jumped:
		}
	}
}

// queueCheckWindow is how late a missed queue check may still be posted
// (after a restart); later than that, it would only confuse.
const queueCheckWindow = 2 * time.Hour

// queueChecks posts each line's shift handover at its configured times,
// except on days the line does not open (closed dates, days without
// hours). A line whose check fails does not hold up the others; it is
// tried again on the next tick until its window closes.
func (b *Bot) queueChecks(ctx context.Context) error {
	now := b.clock.Now()
	var errs []error
	for i := range b.cfg.Lines {
		line := &b.cfg.Lines[i]
		local := now.In(line.Timezone)
		for _, at := range line.QueueChecks {
			due := time.Date(local.Year(), local.Month(), local.Day(), at.Hour, at.Minute, 0, 0, line.Timezone)
			if now.Before(due) || now.Sub(due) > queueCheckWindow || !line.OpenDay(due) {
				continue
			}
			h, err := b.Handover(ctx, line, due)
			if err != nil {
				errs = append(errs, fmt.Errorf("line %s: %w", line.Number, err))
				continue
			}
			key := fmt.Sprintf("queuecheck:%s:%s:%s", line.Number, due.Format("2006-01-02"), at)
			err = b.store.InTx(ctx, func(tx *store.Tx) error {
				return b.post(ctx, tx, Post{Channel: line.Channel, Text: h.Text(), Handover: &h}, key)
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("line %s: %w", line.Number, err))
			}
		}
	}
	return errors.Join(errs...)
}

// KindDigest is the outbox kind of the weekly digest (+ "." + platform).
const KindDigest = "chat.digest"

// digestDue queues last week's digest once the configured weekday and time
// have come: one row per ISO week, whatever the replicas or restarts.
func (b *Bot) digestDue(ctx context.Context) error {
	if b.cfg.Digest.Channel == "" || len(b.chats) == 0 {
		return nil
	}
	loc := b.cfg.Business.Timezone
	now := b.clock.Now().In(loc)
	weekStart := mondayOf(now)
	// Wall-clock time in the business's zone, so DST never shifts it.
	due := time.Date(weekStart.Year(), weekStart.Month(), weekStart.Day()+(int(b.cfg.Digest.Weekday)+6)%7,
		b.cfg.Digest.At.Hour, b.cfg.Digest.At.Minute, 0, 0, loc)
	if now.Before(due) {
		return nil
	}
	job := LastWeeksDigest(now, loc)
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		for _, chat := range b.chats {
			if _, _, err := tx.Enqueue(ctx, store.NewOutbox{
				Kind: KindDigest + "." + chat, DedupeKey: DigestKey(chat, job.Label), Payload: job,
			}, b.clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastWeeksDigest is the digest of the ISO week before now's, weeks
// starting Monday 00:00 in loc.
func LastWeeksDigest(now time.Time, loc *time.Location) DigestJob {
	weekStart := mondayOf(now.In(loc))
	from := weekStart.AddDate(0, 0, -7)
	year, week := from.ISOWeek()
	return DigestJob{From: from.UTC(), To: weekStart.UTC(), Label: fmt.Sprintf("%d-W%02d", year, week)}
}

// DigestKey is the outbox dedupe key of a week's digest on chat: one row
// per week and platform, however often it is queued.
func DigestKey(chat, label string) string { return fmt.Sprintf("digest:%s:%s", chat, label) }

// mondayOf is 00:00 on the Monday of t's week, in t's location.
func mondayOf(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
