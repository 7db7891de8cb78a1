package bot

import (
	"context"
	"sync"
	"time"

	"ringback/config"
)

// ChatPostRetention is how long the record of a chat post is kept once its
// outbox row is done: long past any re-run of the row, which is all the
// record is for.
const ChatPostRetention = 30 * 24 * time.Hour

// WebhookDeliveryRetention is how long a settled webhook delivery is kept
// for `ringback webhooks` to show; its event stays, for replays.
const WebhookDeliveryRetention = 30 * 24 * time.Hour

// pruneEvery is how often the leader's timers prune.
const pruneEvery = time.Hour

// pruning remembers when the timers last pruned.
type pruning struct {
	mu   sync.Mutex
	last time.Time
}

// due reports whether a prune is due at now, and if so counts it done.
func (p *pruning) due(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() && now.Sub(p.last) < pruneEvery && !now.Before(p.last) {
		return false
	}
	p.last = now
	return true
}

// prune deletes what no side effect needs any more: done outbox rows older
// than the outbox's retention (outbox.retention), then the records of chat
// posts older than ChatPostRetention whose rows are done or gone, then
// webhook deliveries settled before WebhookDeliveryRetention. The
// leader's timers run it, so one replica prunes.
func (b *Bot) prune(ctx context.Context) error {
	now := b.clock.Now()
	if !b.pruning.due(now) {
		return nil
	}
	retention := b.cfg.Outbox.Retention
	if retention <= 0 {
		retention = config.DefaultOutboxRetention
	}
	rows, err := b.store.PruneOutbox(ctx, now.Add(-retention))
	if rows > 0 {
		b.log.Info("bot: done outbox rows pruned", "count", rows, "retention", retention.String())
	}
	var posts int64
	if err == nil {
		posts, err = b.store.PruneChatPosts(ctx, now.Add(-ChatPostRetention))
	}
	var deliveries int64
	if err == nil {
		deliveries, err = b.store.PruneWebhookDeliveries(ctx, now.Add(-WebhookDeliveryRetention))
	}
	if err != nil {
		b.pruning.mu.Lock()
		b.pruning.last = time.Time{} // try again at the next tick
		b.pruning.mu.Unlock()
		return err
	}
	if posts > 0 {
		b.log.Info("bot: old chat post records pruned", "count", posts)
	}
	if deliveries > 0 {
		b.log.Info("bot: old webhook deliveries pruned", "count", deliveries)
	}
	return nil
}
