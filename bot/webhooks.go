package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ringback/config"
	"ringback/store"
)

// KindWebhook is the outbox kind of one webhook message to one subscription.
const KindWebhook = "webhook"

// WebhookVersion is the version of the envelopes' schema. A change that
// removes or retypes a field makes a new version; new fields do not.
const WebhookVersion = 1

// webhookTimeout bounds one HTTP attempt: a receiver that hangs must not
// hold an outbox worker.
const webhookTimeout = 15 * time.Second

// webhookRetries are the waits after each failed attempt (after the spec's
// suggested schedule, shortened at the start): about two and a half days in
// all, so a receiver down over a weekend still gets everything. The waits are
// snoozes, not outbox attempts: the delivery counts its own.
var webhookRetries = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// webhookOrderWait is how soon a message held behind an earlier one of its
// case looks again.
const webhookOrderWait = time.Second

// webhookTypes maps the kinds of events in a case's trail to webhook event
// types; other kinds (internal bookkeeping) are not sent.
var webhookTypes = map[string]string{
	"case_opened":   "case.opened",
	"repeat_call":   "case.updated",
	"call_repeat":   "case.updated",
	"triaged":       "case.updated",
	"urgent":        "case.updated",
	"voicemail":     "case.updated",
	EntryClaimed:    "case.claimed",
	EntryReassign:   "case.claimed",
	EntryReleased:   "case.released",
	"auto_released": "case.released",
	EntryCallback:   "case.contacted",
	EntryClosed:     "case.closed",
	EntrySpam:       "case.closed",
	EntryReopened:   "case.reopened",
	"sms_received":  "sms.received",
	"opted_out":     "optout.changed",
	"opted_in":      "optout.changed",
	// The caller picked (or changed) a callback slot on the picker.
	"callback_requested": "callback.scheduled",
}

// webhookType is the webhook event type of e ("" when it is not sent). A
// staff text Twilio accepted is human contact; texts the bot sends are not.
func webhookType(e store.Event) string {
	if e.Kind == "sms_sent" && e.Actor != "" {
		return "case.contacted"
	}
	return webhookTypes[e.Kind]
}

// WebhookEnvelope is the JSON body of every webhook message (version 1).
type WebhookEnvelope struct {
	Type      string      `json:"type"`
	Version   int         `json:"version"`
	ID        string      `json:"id"` // evt_<event id>; also the webhook-id header
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is what the message is about: the case as it stands when the
// message was queued, and the event itself.
type WebhookData struct {
	Case  WebhookCase  `json:"case"`
	Event WebhookEvent `json:"event"`
}

// WebhookEvent is the trail entry behind a message.
type WebhookEvent struct {
	Kind   string          `json:"kind"`  // the trail's own kind, e.g. "sms_sent", "triaged"
	Actor  string          `json:"actor"` // chat user id; "" for the system or the caller
	Detail json.RawMessage `json:"detail"`
	// Text is the caller's SMS (sms.received only).
	Text string `json:"text,omitempty"`
}

// WebhookCase is a case in a webhook message. Caller numbers are included:
// the messages go to the business's own systems.
type WebhookCase struct {
	ID               int64      `json:"id"`
	Ref              string     `json:"ref"`
	Line             string     `json:"line"` // E.164
	LineName         string     `json:"line_name"`
	CallerNumber     string     `json:"caller_number"` // E.164; "" when withheld
	State            string     `json:"state"`
	Category         string     `json:"category"`
	Urgent           bool       `json:"urgent"`
	Spam             bool       `json:"spam"`
	Owner            string     `json:"owner"`
	CallCount        int        `json:"call_count"`
	ContactAttempts  int        `json:"contact_attempts"`
	Outcome          string     `json:"outcome"`
	CloseNote        string     `json:"close_note"`
	CreatedAt        time.Time  `json:"created_at"`
	ClaimedAt        *time.Time `json:"claimed_at"`
	FirstContactAt   *time.Time `json:"first_contact_at"`
	ClosedAt         *time.Time `json:"closed_at"`
	SecondsToClaim   *int64     `json:"seconds_to_claim"`
	SecondsToContact *int64     `json:"seconds_to_contact"`
	SecondsOpen      *int64     `json:"seconds_open"` // created to closed
	// CallbackAt is the slot the caller picked while the case is open
	// (null: none).
	CallbackAt *time.Time `json:"callback_at"`
}

func since(from time.Time, to *time.Time) *int64 {
	if to == nil {
		return nil
	}
	s := int64(to.Sub(from) / time.Second)
	return &s
}

func (b *Bot) webhookCase(c store.Case) WebhookCase {
	wc := WebhookCase{
		ID: c.ID, Ref: caseRef(c.ID), Line: c.LineNumber, CallerNumber: c.CallerNumber, State: c.State,
		Category: c.Category, Urgent: c.Urgent, Spam: c.Spam, Owner: c.Owner, CallCount: c.CallCount,
		ContactAttempts: c.ContactAttempts, Outcome: c.Outcome, CloseNote: c.CloseNote, CreatedAt: c.CreatedAt.UTC(),
		ClaimedAt: c.ClaimedAt, FirstContactAt: c.FirstContactAt, ClosedAt: c.ClosedAt,
		SecondsToClaim: since(c.CreatedAt, c.ClaimedAt), SecondsToContact: since(c.CreatedAt, c.FirstContactAt),
		SecondsOpen: since(c.CreatedAt, c.ClosedAt), CallbackAt: utc(c.CallbackAt),
	}
	if line, ok := b.cfg.LineByNumber(c.LineNumber); ok {
		wc.LineName = line.Name
	}
	return wc
}

// optOutChanged notes a manager's opt-out or opt-in on the caller's latest
// case, where the trail (and so optout.changed) can carry it; a number that
// never had a case has no trail to note it on.
func (b *Bot) optOutChanged(ctx context.Context, tx *store.Tx, number, kind, actor string, now time.Time) error {
	c, err := tx.LatestCaseOfCaller(ctx, number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.AddEvent(ctx, c.ID, now, kind, actor, map[string]any{"source": OptOutManual, "by": actor})
}

// webhookBody renders the envelope of event e of type typ.
func (b *Bot) webhookBody(ctx context.Context, q *store.Tx, e store.WebhookEvent, typ string) (string, error) {
	ev := WebhookEvent{Kind: e.Kind, Actor: e.Actor, Detail: json.RawMessage(e.Data)}
	if !json.Valid(ev.Detail) {
		ev.Detail = json.RawMessage("{}")
	}
	if typ == "sms.received" {
		var d struct {
			MessageID int64 `json:"message_id"`
		}
		if json.Unmarshal([]byte(e.Data), &d) == nil && d.MessageID != 0 {
			if m, err := q.MessageByID(ctx, d.MessageID); err == nil {
				ev.Text = m.Body
			}
		}
	}
	env := WebhookEnvelope{
		Type: typ, Version: WebhookVersion, ID: fmt.Sprintf("evt_%d", e.ID), Timestamp: e.At.UTC(),
		Data: WebhookData{Case: b.webhookCase(e.Case), Event: ev},
	}
	raw, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("bot: webhook %s: %w", env.ID, err)
	}
	return string(raw), nil
}

// webhookJob is the outbox payload of one message to one subscription. The
// body is rendered once, when queued, so every retry sends the same bytes.
type webhookJob struct {
	Delivery int64  `json:"delivery"`
	Body     string `json:"body"`
}

// webhookFanOutBatch is how many events one fan-out transaction handles.
const webhookFanOutBatch = 200

// FanOutWebhooks queues a message per subscription for each event not yet
// handed over, in the transaction that marks the event handed over: each
// event reaches each subscription exactly once (replays aside). It returns
// how many messages it queued. Only the leader runs it.
func (b *Bot) FanOutWebhooks(ctx context.Context) (int, error) {
	if len(b.cfg.Webhooks) == 0 {
		// Events of a time without subscriptions are never sent (replay
		// sends them on purpose); one statement keeps that cheap.
		return 0, b.store.MarkAllEventsWebhooked(ctx, b.clock.Now())
	}
	total := 0
	for {
		var n, seen int
		err := b.store.InTx(ctx, func(tx *store.Tx) error {
			n, seen = 0, 0
			now := b.clock.Now()
			events, err := tx.UnsentWebhookEvents(ctx, webhookFanOutBatch)
			if err != nil {
				return err
			}
			seen = len(events)
			states, err := tx.WebhookSubscriptionStates(ctx)
			if err != nil {
				return err
			}
			for _, e := range events {
				taken, err := tx.MarkEventWebhooked(ctx, e.ID, now)
				if err != nil {
					return err
				}
				if !taken {
					continue
				}
				added, err := b.queueWebhook(ctx, tx, e, states, "", now)
				if err != nil {
					return err
				}
				n += added
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if seen < webhookFanOutBatch {
			return total, nil
		}
	}
}

// queueWebhook queues event e to every enabled subscription that wants it
// (only to the one called only, when set).
func (b *Bot) queueWebhook(ctx context.Context, tx *store.Tx, e store.WebhookEvent, states map[string]store.WebhookSubscriptionState, only string, now time.Time) (int, error) {
	typ := webhookType(e.Event)
	if typ == "" {
		return 0, nil
	}
	var body string
	n := 0
	for _, sub := range b.cfg.Webhooks {
		if (only != "" && sub.Name != only) || states[sub.Name].DisabledAt != nil || !sub.Wants(typ, e.Case.LineNumber) {
			continue
		}
		if body == "" {
			var err error
			if body, err = b.webhookBody(ctx, tx, e, typ); err != nil {
				return n, err
			}
		}
		caseID := e.CaseID
		if err := b.enqueueWebhook(ctx, tx, store.WebhookDelivery{
			Subscription: sub.Name, MessageID: fmt.Sprintf("evt_%d", e.ID), EventID: &e.ID, CaseID: &caseID, Type: typ,
		}, body, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (b *Bot) enqueueWebhook(ctx context.Context, tx *store.Tx, d store.WebhookDelivery, body string, now time.Time) error {
	id, err := tx.AddWebhookDelivery(ctx, d, now)
	if err != nil {
		return err
	}
	var caseID int64
	if d.CaseID != nil {
		caseID = *d.CaseID
	}
	return tx.EnqueueLater(store.NewOutbox{
		Kind: KindWebhook, DedupeKey: fmt.Sprintf("webhook:%d", id), Payload: webhookJob{Delivery: id, Body: body},
		CaseID: caseID, MaxAttempts: store.DefaultMaxAttempts,
	}, now)
}

// ReplayWebhooks queues again, to subscription (every one when ""), the
// events recorded since then. The messages keep their webhook-id, so a
// receiver that keeps ids sees them as the same messages.
func (b *Bot) ReplayWebhooks(ctx context.Context, subscription string, since time.Time) (int, error) {
	if subscription != "" {
		if _, ok := b.cfg.Webhook(subscription); !ok {
			return 0, fmt.Errorf("bot: no webhook called %q", subscription)
		}
	}
	total := 0
	var after int64
	for {
		var seen int
		err := b.store.InTx(ctx, func(tx *store.Tx) error {
			events, err := tx.EventsSince(ctx, since, after, webhookFanOutBatch)
			if err != nil {
				return err
			}
			seen = len(events)
			states, err := tx.WebhookSubscriptionStates(ctx)
			if err != nil {
				return err
			}
			now := b.clock.Now()
			for _, e := range events {
				n, err := b.queueWebhook(ctx, tx, e, states, subscription, now)
				if err != nil {
					return err
				}
				total += n
				after = e.ID
			}
			return nil
		})
		if err != nil || seen < webhookFanOutBatch {
			return total, err
		}
	}
}

// TestWebhook queues a signed webhook.test message to the subscription.
func (b *Bot) TestWebhook(ctx context.Context, name string) (messageID string, err error) {
	if _, ok := b.cfg.Webhook(name); !ok {
		return "", fmt.Errorf("bot: no webhook called %q", name)
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	now := b.clock.Now()
	messageID = "evt_test_" + hex.EncodeToString(nonce[:])
	body, err := json.Marshal(map[string]any{
		"type": "webhook.test", "version": WebhookVersion, "id": messageID, "timestamp": now.UTC(),
		"data": map[string]string{"subscription": name},
	})
	if err != nil {
		return "", fmt.Errorf("bot: webhook test: %w", err)
	}
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		return b.enqueueWebhook(ctx, tx, store.WebhookDelivery{Subscription: name, MessageID: messageID, Type: "webhook.test"}, string(body), now)
	})
	return messageID, err
}

// RunWebhookFanOut hands new events to the webhook subscriptions every
// interval, while ctx lives (the leader's term).
func (b *Bot) RunWebhookFanOut(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := b.FanOutWebhooks(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("webhook fan-out failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// webhookSecrets are the subscription's signing keys, current first (a
// whsec_ prefix is dropped and the rest base64-decoded, as the spec says).
func (b *Bot) webhookSecrets(sub config.Webhook) ([][]byte, error) {
	var keys [][]byte
	for _, env := range []string{sub.SecretEnv, sub.PreviousSecretEnv} {
		if env == "" {
			continue
		}
		s := b.getenv(env)
		if s == "" {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("bot: webhook %s: %s is not a whsec_ base64 secret", sub.Name, env)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("bot: webhook %s: %s is not set", sub.Name, sub.SecretEnv)
	}
	return keys, nil
}

// webhookSignature is the webhook-signature header: one v1 signature of
// "id.timestamp.body" per key, space-separated.
func webhookSignature(keys [][]byte, id string, ts int64, body string) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		mac := hmac.New(sha256.New, k)
		fmt.Fprintf(mac, "%s.%d.%s", id, ts, body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return strings.Join(sigs, " ")
}

// performWebhook sends one message. A 2xx delivers it; 410 Gone disables the
// subscription; anything else is retried on webhookRetries' schedule (or
// later, when the receiver's Retry-After says so).
func (b *Bot) performWebhook(ctx context.Context, it store.OutboxItem) error {
	var job webhookJob
	if err := it.Decode(&job); err != nil {
		return Permanent(err)
	}
	d, err := b.store.WebhookDeliveryByID(ctx, job.Delivery)
	if err != nil {
		return err
	}
	if d.State != store.WebhookPending {
		return nil // settled by an attempt whose outbox row was not marked
	}
	now := b.clock.Now()
	fail := func(status int, why string) error {
		if err := b.store.SettleWebhookDelivery(ctx, d.ID, store.WebhookFailed, status, why, now); err != nil {
			return err
		}
		return Permanent(errors.New("bot: webhook " + d.Subscription + ": " + why))
	}
	sub, ok := b.cfg.Webhook(d.Subscription)
	if !ok {
		return fail(0, "subscription no longer configured")
	}
	states, err := b.store.WebhookSubscriptionStates(ctx)
	if err != nil {
		return err
	}
	if st := states[sub.Name]; st.DisabledAt != nil {
		return fail(0, "subscription disabled: "+st.DisabledReason)
	}
	waits, until, err := b.store.WebhookWaitsFor(ctx, d)
	if err != nil {
		return err
	}
	if waits {
		// Look again when the earlier message is next tried, not every
		// second through a long outage.
		return &RetryAfterError{After: max(webhookOrderWait, until.Sub(now)), Err: errors.New("bot: webhook waits for an earlier message of its case")}
	}
	keys, err := b.webhookSecrets(sub)
	if err != nil {
		return b.webhookRetry(ctx, d, 0, err.Error(), 0, now)
	}
	if !config.WebhookURLAllowed(sub.URL) {
		return fail(0, "URL must be https")
	}
	// The timestamp is the wall clock's: receivers check it against theirs.
	ts := time.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, strings.NewReader(job.Body))
	if err != nil {
		return fail(0, err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ringback-Webhooks/1")
	req.Header.Set("webhook-id", d.MessageID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", webhookSignature(keys, d.MessageID, ts, job.Body))
	resp, err := b.webhookClient.Do(req)
	if err != nil {
		return b.webhookRetry(ctx, d, 0, err.Error(), 0, now)
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		b.log.Info("webhook delivered", "subscription", sub.Name, "webhook_id", d.MessageID, "type", d.Type)
		return b.store.SettleWebhookDelivery(ctx, d.ID, store.WebhookDelivered, resp.StatusCode, "", now)
	case resp.StatusCode == http.StatusGone:
		if err := b.store.DisableWebhookSubscription(ctx, sub.Name, "endpoint answered 410 Gone", now); err != nil {
			return err
		}
		b.log.Warn("webhook subscription disabled: 410 Gone", "subscription", sub.Name)
		return fail(resp.StatusCode, "410 Gone: subscription disabled")
	}
	why := fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(snippet))
	return b.webhookRetry(ctx, d, resp.StatusCode, why, retryAfter(resp.Header.Get("Retry-After"), time.Now()), now)
}

// webhookRetry records a failed attempt and snoozes the row until the next
// one (at least asked, when the receiver said when), or gives up once the
// schedule is spent.
func (b *Bot) webhookRetry(ctx context.Context, d store.WebhookDelivery, status int, why string, asked time.Duration, now time.Time) error {
	attempt := d.Attempts + 1
	if attempt > len(webhookRetries) {
		if err := b.store.SettleWebhookDelivery(ctx, d.ID, store.WebhookFailed, status, why, now); err != nil {
			return err
		}
		return Permanent(errors.New("bot: webhook " + d.Subscription + " gave up: " + why))
	}
	wait := max(webhookRetries[attempt-1], min(asked, 24*time.Hour))
	if err := b.store.RetryWebhookDelivery(ctx, d.ID, store.WebhookPending, status, why, now.Add(wait), now); err != nil {
		return err
	}
	b.log.Warn("webhook attempt failed", "subscription", d.Subscription, "webhook_id", d.MessageID, "attempt", attempt, "status", status)
	return &RetryAfterError{After: wait, Err: errors.New("bot: webhook: " + why)}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date (0: none).
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
