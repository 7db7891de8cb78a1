-- +goose Up
-- As the PostgreSQL migration 00012: the opt-out ledger's line, words and
-- decider, and the possible opt-outs waiting for staff on their case.
ALTER TABLE opt_outs ADD COLUMN line_number TEXT NOT NULL DEFAULT '';
ALTER TABLE opt_outs ADD COLUMN phrase TEXT NOT NULL DEFAULT '';
ALTER TABLE opt_outs ADD COLUMN added_by TEXT NOT NULL DEFAULT '';

CREATE TABLE optout_queries (
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    message_id  INTEGER PRIMARY KEY REFERENCES messages(id),  -- one question a text
    phrase      TEXT NOT NULL DEFAULT '',
    -- SQLite keeps these times as DATETIME text, as every table here.
    asked_at    DATETIME NOT NULL,
    decided_at  DATETIME,
    decision    TEXT NOT NULL DEFAULT '',    -- '' (open), opt_out, not_opt_out
    decided_by  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX optout_queries_open ON optout_queries (case_id) WHERE decision = '';

-- +goose Down
DROP TABLE optout_queries;
ALTER TABLE opt_outs DROP COLUMN added_by;
ALTER TABLE opt_outs DROP COLUMN phrase;
ALTER TABLE opt_outs DROP COLUMN line_number;
