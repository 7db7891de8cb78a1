-- +goose Up
-- A case's escalation is one row, its next step, instead of a row per step
-- per round per repeat: a missed call writes one row where it wrote three,
-- and a change of category or urgency re-times one row. The row keeps the
-- policy the case opened with (JSON steps; '' = the line's policy in the
-- config, as for the rows of before), the round's clock start, the next
-- step (the earliest not done) and when it is due, the steps fired and
-- those passed because their condition cleared this round (bit i = step i),
-- the step repeating, and the owner's answer awaited. fire_at is the earliest
-- of the three times: the one column the timer loop reads. managers_at is
-- when the case began to wait for the managers' next round-up (one
-- message per interval listing every case that needs them).
CREATE TABLE case_escalations (
    case_id     INTEGER PRIMARY KEY REFERENCES cases(id),
    policy      TEXT NOT NULL DEFAULT '',
    round       INTEGER NOT NULL DEFAULT 0,
    base        DATETIME NOT NULL,
    step        INTEGER NOT NULL DEFAULT 0,
    step_at     DATETIME,
    fired       INTEGER NOT NULL DEFAULT 0,
    passed      INTEGER NOT NULL DEFAULT 0,
    repeat_step INTEGER NOT NULL DEFAULT -1,
    repeat_n    INTEGER NOT NULL DEFAULT 0,
    repeat_at   DATETIME,
    ack_owner   TEXT NOT NULL DEFAULT '',
    ack_step    INTEGER NOT NULL DEFAULT 0,
    ack_at      DATETIME,
    fire_at     DATETIME,
    managers_at DATETIME,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX case_escalations_due ON case_escalations (fire_at) WHERE fire_at IS NOT NULL;
CREATE INDEX case_escalations_managers ON case_escalations (managers_at) WHERE managers_at IS NOT NULL;

-- Cases with something pending carry it over: the latest round's next
-- pending step, its pending repeat and the awaited answer, on the line's
-- policy from the config (the rows' copies are per step; the config is
-- what rows without one read already).
WITH rounds AS (
    SELECT case_id, MAX(round) AS round FROM escalations WHERE kind = 'step' GROUP BY case_id
), pending AS (
    SELECT DISTINCT e.case_id FROM escalations e WHERE e.state = 'pending'
)
INSERT INTO case_escalations (case_id, policy, round, base, step, step_at, fired, passed,
    repeat_step, repeat_n, repeat_at, ack_owner, ack_step, ack_at, fire_at, updated_at)
SELECT p.case_id, '', COALESCE(r.round, 0), c.created_at,
    COALESCE((SELECT MIN(e.step) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'step'
        AND e.state = 'pending' AND e.repeat_n = 0 AND e.round = COALESCE(r.round, 0)), 64),
    (SELECT MIN(e.fire_at) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'step'
        AND e.state = 'pending' AND e.repeat_n = 0 AND e.round = COALESCE(r.round, 0)),
    COALESCE((SELECT SUM(DISTINCT 1 << e.step) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'step'
        AND e.state = 'fired' AND e.round = COALESCE(r.round, 0) AND e.step < 63), 0),
    COALESCE((SELECT SUM(DISTINCT 1 << e.step) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'step'
        AND e.state = 'canceled' AND e.repeat_n = 0 AND e.round = COALESCE(r.round, 0) AND e.step < 63), 0),
    COALESCE((SELECT MIN(e.step) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'step'
        AND e.state = 'pending' AND e.repeat_n > 0), -1),
    COALESCE((SELECT MAX(e.repeat_n) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'step'
        AND e.state = 'pending' AND e.repeat_n > 0), 0),
    (SELECT MIN(e.fire_at) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'step'
        AND e.state = 'pending' AND e.repeat_n > 0),
    COALESCE((SELECT MAX(e.owner) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'owner_ack' AND e.state = 'pending'), ''),
    COALESCE((SELECT MAX(e.step) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'owner_ack' AND e.state = 'pending'), 0),
    (SELECT MIN(e.fire_at) FROM escalations e WHERE e.case_id = p.case_id AND e.kind = 'owner_ack' AND e.state = 'pending'),
    (SELECT MIN(e.fire_at) FROM escalations e WHERE e.case_id = p.case_id AND e.state = 'pending'),
    c.updated_at
FROM pending p
JOIN cases c ON c.id = p.case_id
LEFT JOIN rounds r ON r.case_id = p.case_id
WHERE c.state <> 'closed';

DROP TABLE escalations;

-- +goose Down
CREATE TABLE escalations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    kind        TEXT NOT NULL CHECK (kind IN ('step', 'owner_ack')),
    step        INTEGER NOT NULL,
    round       INTEGER NOT NULL DEFAULT 0,
    repeat_n    INTEGER NOT NULL DEFAULT 0,
    owner       TEXT NOT NULL DEFAULT '',
    fire_at     DATETIME NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'fired', 'canceled')),
    updated_at  DATETIME NOT NULL,
    policy_step TEXT NOT NULL DEFAULT '',
    UNIQUE (case_id, kind, step, round, repeat_n)
);
CREATE INDEX escalations_due ON escalations (fire_at) WHERE state = 'pending';
CREATE INDEX escalations_case ON escalations (case_id);
DROP TABLE case_escalations;
