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

// queueChecks posts each line's queue summary at its configured times. A
// line whose check fails does not hold up the others; it is tried again on
// the next tick until its window closes.
func (b *Bot) queueChecks(ctx context.Context) error {
	now := b.clock.Now()
	var errs []error
	for i := range b.cfg.Lines {
		line := &b.cfg.Lines[i]
		local := now.In(line.Timezone)
		for _, at := range line.QueueChecks {
			due := time.Date(local.Year(), local.Month(), local.Day(), at.Hour, at.Minute, 0, 0, line.Timezone)
			if now.Before(due) || now.Sub(due) > queueCheckWindow {
				continue
			}
			text, err := b.QueueCheckText(ctx, line, at)
			if err != nil {
				errs = append(errs, fmt.Errorf("line %s: %w", line.Number, err))
				continue
			}
			key := fmt.Sprintf("queuecheck:%s:%s:%s", line.Number, due.Format("2006-01-02"), at)
			err = b.store.InTx(ctx, func(tx *store.Tx) error {
				return b.post(ctx, tx, Post{Channel: line.Channel, Text: text}, key)
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("line %s: %w", line.Number, err))
			}
		}
	}
	return errors.Join(errs...)
}

// QueueCheckText is a line's queue at a glance: open cases by owner, the
// overdue ones and the unclaimed ones.
func (b *Bot) QueueCheckText(ctx context.Context, line *config.Line, at config.TimeOfDay) (Text, error) {
	now := b.clock.Now()
	rows, total, err := b.store.OpenQueue(ctx, store.QueueFilter{Line: line.Number, Limit: 1000, NoSpam: true})
	if err != nil {
		return nil, err
	}
	byOwner := map[string]int{}
	var overdue, unclaimed []string
	for _, r := range rows {
		it := b.queueItem(r, now)
		if r.Owner == "" {
			unclaimed = append(unclaimed, it.Ref)
		} else {
			byOwner[r.Owner]++
		}
		if it.Overdue {
			overdue = append(overdue, it.Ref)
		}
	}
	t := Text{Words("📋 "), Strong(fmt.Sprintf("%s queue at %s", line.Name, at)), Wordsf(": %d open", total)}
	if total == 0 {
		return append(t, Words(". Nothing waiting. 🎉")), nil
	}
	t = append(t, Wordsf(", %d unclaimed, %d overdue.", len(unclaimed), len(overdue)))
	if len(byOwner) > 0 {
		owners := make([]string, 0, len(byOwner))
		for o := range byOwner {
			owners = append(owners, o)
		}
		sort.Slice(owners, func(i, j int) bool {
			return byOwner[owners[i]] > byOwner[owners[j]] || (byOwner[owners[i]] == byOwner[owners[j]] && owners[i] < owners[j])
		})
		t = append(t, Words("\nBy owner: "))
		for i, o := range owners {
			if i > 0 {
				t = append(t, Words(", "))
			}
			t = append(t, User(o), Wordsf(" %d", byOwner[o]))
		}
	}
	if len(overdue) > 0 {
		t = append(t, Words("\n⏰ Overdue: "+strings.Join(limit(overdue, 15), ", ")))
	}
	if len(unclaimed) > 0 {
		t = append(t, Words("\n🔴 Unclaimed: "+strings.Join(limit(unclaimed, 15), ", ")))
	}
	return t, nil
}

func limit(refs []string, n int) []string {
	if len(refs) <= n {
		return refs
	}
	return append(refs[:n:n], fmt.Sprintf("and %d more", len(refs)-n))
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
	from := weekStart.AddDate(0, 0, -7)
	year, week := from.ISOWeek()
	job := DigestJob{From: from.UTC(), To: weekStart.UTC(), Label: fmt.Sprintf("%d-W%02d", year, week)}
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		for _, chat := range b.chats {
			if _, _, err := tx.Enqueue(ctx, store.NewOutbox{
				Kind: KindDigest + "." + chat, DedupeKey: fmt.Sprintf("digest:%s:%s", chat, job.Label), Payload: job,
			}, b.clock.Now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// mondayOf is 00:00 on the Monday of t's week, in t's location.
func mondayOf(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
