-- +goose Up
-- The opt-out ledger says where each opt-out came from: the line it was
-- texted to, the words that made it one ("do not text me"), and who
-- decided it (staff confirming a possible opt-out, a manager's command).
ALTER TABLE opt_outs ADD COLUMN line_number TEXT NOT NULL DEFAULT '';
ALTER TABLE opt_outs ADD COLUMN phrase TEXT NOT NULL DEFAULT '';
ALTER TABLE opt_outs ADD COLUMN added_by TEXT NOT NULL DEFAULT '';

-- A caller's text that may be a request to stop texting ("wrong number",
-- "not interested"): its case's card asks staff until one decides.
CREATE TABLE optout_queries (
    message_id  BIGINT PRIMARY KEY REFERENCES messages(id),
    case_id     BIGINT NOT NULL REFERENCES cases(id),
    phrase      TEXT NOT NULL DEFAULT '',
    asked_at    TIMESTAMPTZ NOT NULL,
    decision    TEXT NOT NULL DEFAULT '',    -- '' (open), opt_out, not_opt_out
    decided_by  TEXT NOT NULL DEFAULT '',
    decided_at  TIMESTAMPTZ
);
CREATE INDEX optout_queries_open ON optout_queries (case_id) WHERE decision = '';

-- +goose Down
DROP TABLE optout_queries;
ALTER TABLE opt_outs DROP COLUMN added_by;
ALTER TABLE opt_outs DROP COLUMN phrase;
ALTER TABLE opt_outs DROP COLUMN line_number;
