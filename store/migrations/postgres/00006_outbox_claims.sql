-- +goose Up
-- A claim is fenced: each one takes the next claim_seq, and only the worker
-- holding that number can settle the row. It lasts until lease_until on the
-- database's clock (the bot's clock can be moved) and is extended by
-- heartbeats; run_at stays the due time on the bot's clock.
ALTER TABLE outbox ADD COLUMN claim_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease_until TIMESTAMPTZ;
-- Each remote has its own lane of workers: texts never wait behind chat.
ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT 'other';
UPDATE outbox SET lane = CASE
    WHEN kind LIKE 'sms.%' THEN 'sms'
    WHEN kind LIKE 'chat.%.slack' THEN 'slack'
    WHEN kind LIKE 'chat.%.discord' THEN 'discord'
    ELSE 'other' END;
-- Rows claimed before: run_at held the end of their claim.
UPDATE outbox SET lease_until = run_at WHERE state = 'running';
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (lane, run_at) WHERE state = 'pending';
CREATE INDEX outbox_lease ON outbox (lease_until) WHERE state = 'running';

-- +goose Down
DROP INDEX outbox_lease;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (run_at) WHERE state IN ('pending', 'running');
ALTER TABLE outbox DROP COLUMN lane;
ALTER TABLE outbox DROP COLUMN lease_until;
ALTER TABLE outbox DROP COLUMN claim_seq;
