-- +goose Up
-- A delivery receipt can beat Twilio's answer to the send request; it waits
-- here until the message's SID is known.
CREATE TABLE early_receipts (
    sid         TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    error_code  TEXT NOT NULL DEFAULT '',
    received_at DATETIME NOT NULL
);
-- Thread entries of a case are claimed in order: the claim looks for an
-- earlier one still waiting or running.
DROP INDEX outbox_case;
CREATE INDEX outbox_case ON outbox (case_id, kind, id) WHERE state IN ('pending', 'running');
-- The digest's "reached per day".
CREATE INDEX cases_first_contact ON cases (first_contact_at);

-- +goose Down
DROP INDEX cases_first_contact;
DROP INDEX outbox_case;
CREATE INDEX outbox_case ON outbox (case_id, kind) WHERE state = 'pending';
DROP TABLE early_receipts;
