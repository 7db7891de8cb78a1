package store

import (
	"context"
	"fmt"
	"time"
)

// Webhook delivery states.
const (
	WebhookPending   = "pending"
	WebhookDelivered = "delivered"
	WebhookFailed    = "failed"
)

// WebhookEvent is an event with the case it belongs to, as the webhook
// fan-out reads it.
type WebhookEvent struct {
	Event
	Case Case
}

// WebhookDelivery is one message to one subscription.
type WebhookDelivery struct {
	ID           int64      `db:"id"`
	Subscription string     `db:"subscription"`
	MessageID    string     `db:"message_id"`
	EventID      *int64     `db:"event_id"`
	CaseID       *int64     `db:"case_id"`
	Type         string     `db:"type"`
	State        string     `db:"state"`
	Attempts     int        `db:"attempts"`
	LastStatus   int        `db:"last_status"`
	LastError    string     `db:"last_error"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
	DeliveredAt  *time.Time `db:"delivered_at"`
}

const webhookDeliveryColumns = `id, subscription, message_id, event_id, case_id, type, state, attempts, last_status, last_error, created_at, updated_at, delivered_at`

// WebhookSubscriptionState is what the store remembers of a subscription
// (the subscription itself is configured in ringback.yaml).
type WebhookSubscriptionState struct {
	Name           string     `db:"name"`
	DisabledAt     *time.Time `db:"disabled_at"`
	DisabledReason string     `db:"disabled_reason"`
}

// UnsentWebhookEvents lists up to limit events not yet handed to the
// webhook fan-out, oldest first, each with its case.
func (q queries) UnsentWebhookEvents(ctx context.Context, limit int) ([]WebhookEvent, error) {
	var es []Event
	err := q.selectAll(ctx, &es, `SELECT id, case_id, at, kind, actor, data FROM events WHERE webhooked_at IS NULL ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unsent webhook events: %w", err)
	}
	return q.withCases(ctx, es)
}

// EventsSince lists up to limit events at or after since with an id above
// after, oldest first, each with its case (webhook replays).
func (q queries) EventsSince(ctx context.Context, since time.Time, after int64, limit int) ([]WebhookEvent, error) {
	var es []Event
	err := q.selectAll(ctx, &es, `SELECT id, case_id, at, kind, actor, data FROM events WHERE at >= ? AND id > ? ORDER BY id LIMIT ?`, since.UTC(), after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events since %s: %w", since.Format(time.RFC3339), err)
	}
	return q.withCases(ctx, es)
}

func (q queries) withCases(ctx context.Context, es []Event) ([]WebhookEvent, error) {
	out := make([]WebhookEvent, 0, len(es))
	cases := map[int64]Case{}
	for _, e := range es {
		c, ok := cases[e.CaseID]
		if !ok {
			if err := q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases WHERE id = ?`, e.CaseID); err != nil {
				return nil, fmt.Errorf("store: case %d of event %d: %w", e.CaseID, e.ID, err)
			}
			cases[e.CaseID] = c
		}
		out = append(out, WebhookEvent{Event: e, Case: c})
	}
	return out, nil
}

// LatestCaseOfCaller is the caller's most recent case on any line
// (ErrNotFound: none).
func (q queries) LatestCaseOfCaller(ctx context.Context, caller string) (Case, error) {
	var c Case
	err := q.get(ctx, &c, `SELECT `+caseColumns+` FROM cases WHERE caller_number = ? ORDER BY id DESC LIMIT 1`, caller)
	return c, notFound(err, "store: latest case of a caller")
}

// MarkEventWebhooked records that the fan-out has handled the event. taken
// is false when it had been handled already (by a previous leader).
func (q queries) MarkEventWebhooked(ctx context.Context, eventID int64, now time.Time) (taken bool, err error) {
	res, err := q.exec(ctx, `UPDATE events SET webhooked_at = ? WHERE id = ? AND webhooked_at IS NULL`, now.UTC(), eventID)
	if err != nil {
		return false, fmt.Errorf("store: mark event %d webhooked: %w", eventID, err)
	}
	return affected(res)
}

// MarkAllEventsWebhooked marks every event handed over at once (no
// subscription is configured: none will be sent).
func (q queries) MarkAllEventsWebhooked(ctx context.Context, now time.Time) error {
	// Read first: on SQLite an UPDATE takes the write lock even when it
	// matches nothing, and this runs every second.
	if found, err := q.exists(ctx, `SELECT 1 FROM events WHERE webhooked_at IS NULL`); err != nil || !found {
		return err
	}
	if _, err := q.exec(ctx, `UPDATE events SET webhooked_at = ? WHERE webhooked_at IS NULL`, now.UTC()); err != nil {
		return fmt.Errorf("store: mark events webhooked: %w", err)
	}
	return nil
}

// AddWebhookDelivery records a pending delivery and returns its id.
func (q queries) AddWebhookDelivery(ctx context.Context, d WebhookDelivery, now time.Time) (int64, error) {
	var id int64
	_, err := q.insertID(ctx, &id, `
		INSERT INTO webhook_deliveries (subscription, message_id, event_id, case_id, type, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id`,
		d.Subscription, d.MessageID, d.EventID, d.CaseID, d.Type, now.UTC(), now.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: add webhook delivery %s to %s: %w", d.MessageID, d.Subscription, err)
	}
	return id, nil
}

// WebhookDeliveryByID returns one delivery (ErrNotFound: none).
func (q queries) WebhookDeliveryByID(ctx context.Context, id int64) (WebhookDelivery, error) {
	var d WebhookDelivery
	err := q.get(ctx, &d, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id)
	return d, notFound(err, "store: webhook delivery %d", id)
}

// WebhookWaitsFor reports whether an earlier delivery of the same case to
// the same subscription is still pending (a case's messages go in order),
// and the soonest time one of those is tried again (zero: unknown, soon).
func (q queries) WebhookWaitsFor(ctx context.Context, d WebhookDelivery) (waits bool, until time.Time, err error) {
	if d.CaseID == nil {
		return false, time.Time{}, nil
	}
	var rows []struct {
		NextAt *time.Time `db:"next_at"`
	}
	err = q.selectAll(ctx, &rows, `SELECT next_at FROM webhook_deliveries WHERE subscription = ? AND case_id = ? AND id < ? AND state = 'pending'`,
		d.Subscription, *d.CaseID, d.ID)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("store: webhook delivery %d's predecessors: %w", d.ID, err)
	}
	for i, r := range rows {
		if r.NextAt == nil {
			return true, time.Time{}, nil
		}
		if i == 0 || r.NextAt.Before(until) {
			until = r.NextAt.UTC()
		}
	}
	return len(rows) > 0, until, nil
}

// SettleWebhookDelivery records an attempt: its HTTP status (0: none), its
// error ("" when it succeeded) and the delivery's state after it.
func (q queries) SettleWebhookDelivery(ctx context.Context, id int64, state string, status int, problem string, now time.Time) error {
	return q.RetryWebhookDelivery(ctx, id, state, status, problem, time.Time{}, now)
}

// RetryWebhookDelivery is SettleWebhookDelivery that also records when a
// pending delivery is tried again (next; zero: not known).
func (q queries) RetryWebhookDelivery(ctx context.Context, id int64, state string, status int, problem string, next, now time.Time) error {
	var nextAt *time.Time
	if !next.IsZero() {
		n := next.UTC()
		nextAt = &n
	}
	var delivered *time.Time
	if state == WebhookDelivered {
		t := now.UTC()
		delivered = &t
	}
	_, err := q.exec(ctx, `
		UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, updated_at = ?,
			delivered_at = COALESCE(?, delivered_at), next_at = ?
		WHERE id = ?`, state, status, truncate(problem, 1000), now.UTC(), delivered, nextAt, id)
	if err != nil {
		return fmt.Errorf("store: settle webhook delivery %d: %w", id, err)
	}
	return nil
}

// RecentWebhookDeliveries lists the latest deliveries, newest first; failed
// limits them to failed ones.
func (q queries) RecentWebhookDeliveries(ctx context.Context, limit int, failed bool) ([]WebhookDelivery, error) {
	where := ""
	if failed {
		where = ` WHERE state = 'failed' OR (state = 'pending' AND last_error <> '')`
	}
	var ds []WebhookDelivery
	err := q.selectAll(ctx, &ds, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries`+where+` ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent webhook deliveries: %w", err)
	}
	return ds, nil
}

// WebhookDeliveriesOf lists a subscription's deliveries in the order they
// were queued (tests, replays).
func (q queries) WebhookDeliveriesOf(ctx context.Context, subscription string) ([]WebhookDelivery, error) {
	var ds []WebhookDelivery
	err := q.selectAll(ctx, &ds, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries WHERE subscription = ? ORDER BY id`, subscription)
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries of %s: %w", subscription, err)
	}
	return ds, nil
}

// WebhookSubscriptionStates lists what the store remembers of each
// subscription, by name.
func (q queries) WebhookSubscriptionStates(ctx context.Context) (map[string]WebhookSubscriptionState, error) {
	var ss []WebhookSubscriptionState
	if err := q.selectAll(ctx, &ss, `SELECT name, disabled_at, disabled_reason FROM webhook_subscriptions`); err != nil {
		return nil, fmt.Errorf("store: webhook subscriptions: %w", err)
	}
	out := make(map[string]WebhookSubscriptionState, len(ss))
	for _, s := range ss {
		out[s.Name] = s
	}
	return out, nil
}

// DisableWebhookSubscription stops deliveries to a subscription (its
// endpoint answered 410 Gone) until it is enabled again.
func (q queries) DisableWebhookSubscription(ctx context.Context, name, reason string, now time.Time) error {
	_, err := q.exec(ctx, `
		INSERT INTO webhook_subscriptions (name, disabled_at, disabled_reason) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason`,
		name, now.UTC(), truncate(reason, 500))
	if err != nil {
		return fmt.Errorf("store: disable webhook subscription %s: %w", name, err)
	}
	return nil
}

// EnableWebhookSubscription lifts a disable; enabled is false when the
// subscription was not disabled.
func (q queries) EnableWebhookSubscription(ctx context.Context, name string) (enabled bool, err error) {
	res, err := q.exec(ctx, `UPDATE webhook_subscriptions SET disabled_at = NULL, disabled_reason = '' WHERE name = ? AND disabled_at IS NOT NULL`, name)
	if err != nil {
		return false, fmt.Errorf("store: enable webhook subscription %s: %w", name, err)
	}
	return affected(res)
}

// PruneWebhookDeliveries deletes deliveries settled (delivered, or given up
// as failed) before before, a batch at a time; pending ones stay however old.
// Their events stay: `ringback webhooks replay` re-sends from those.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteInBatches(ctx, "webhook deliveries", `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND updated_at < ?
		ORDER BY id LIMIT ?)`, before.UTC())
}
