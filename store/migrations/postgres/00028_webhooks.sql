-- +goose Up
-- Outbound webhooks. An event not yet handed to the webhook fan-out has
-- webhooked_at NULL: the leader picks events by that state, not by an id
-- cursor, since concurrent transactions commit ids out of order. Events
-- older than this migration count as handed over (never sent).
ALTER TABLE events ADD COLUMN webhooked_at TIMESTAMPTZ;
UPDATE events SET webhooked_at = at;
CREATE INDEX events_webhook_due ON events (id) WHERE webhooked_at IS NULL;

-- A subscription's state; the subscription itself lives in ringback.yaml.
CREATE TABLE webhook_subscriptions (
    name            TEXT PRIMARY KEY,
    disabled_at     TIMESTAMPTZ,              -- set when the endpoint answered 410 Gone
    disabled_reason TEXT NOT NULL DEFAULT ''
);

-- One delivery of one message to one subscription (its outbox row does the
-- sending); the record `ringback webhooks` lists.
CREATE TABLE webhook_deliveries (
    id           BIGSERIAL PRIMARY KEY,
    subscription TEXT NOT NULL,
    message_id   TEXT NOT NULL,               -- webhook-id header (the same on retries and replays)
    event_id     BIGINT,                      -- NULL for a test message
    case_id      BIGINT,
    type         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_status  INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    next_at      TIMESTAMPTZ,                  -- pending after a failure: when it is tried again
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (subscription, case_id, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (updated_at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP INDEX events_webhook_due;
ALTER TABLE events DROP COLUMN webhooked_at;
