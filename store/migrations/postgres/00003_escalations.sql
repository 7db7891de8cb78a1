-- +goose Up
-- Durable escalation schedule: a row per step per case, fired or canceled
-- in the same transaction as the notifications it queues, so a restart or
-- a new leader neither loses nor repeats a step.
CREATE TABLE escalations (
    id         BIGSERIAL PRIMARY KEY,
    case_id    BIGINT NOT NULL REFERENCES cases(id),
    kind       TEXT NOT NULL CHECK (kind IN ('step', 'owner_ack')),
    step       INTEGER NOT NULL,            -- index in the line's policy
    round      INTEGER NOT NULL DEFAULT 0,  -- escalation restarts after an unanswered owner reminder
    repeat_n   INTEGER NOT NULL DEFAULT 0,
    owner      TEXT NOT NULL DEFAULT '',    -- owner_ack: whose answer is awaited
    fire_at    TIMESTAMPTZ NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'fired', 'canceled')),
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (case_id, kind, step, round, repeat_n)
);
CREATE INDEX escalations_due ON escalations (fire_at) WHERE state = 'pending';
CREATE INDEX escalations_case ON escalations (case_id);
CREATE INDEX cases_rota ON cases (line_number) WHERE assigned_by = 'rota';

-- +goose Down
DROP TABLE escalations;
DROP INDEX cases_rota;
