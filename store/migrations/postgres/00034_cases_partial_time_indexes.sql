-- +goose Up
-- An open case has neither time: it stays out of these indexes until it is
-- contacted or closed, so a new case writes two index entries fewer, and so
-- does each change of it until then. Every query that uses them bounds the
-- column (>=, >, <), which implies IS NOT NULL.
DROP INDEX cases_closed;
CREATE INDEX cases_closed ON cases (closed_at) WHERE closed_at IS NOT NULL;
DROP INDEX cases_first_contact;
CREATE INDEX cases_first_contact ON cases (first_contact_at) WHERE first_contact_at IS NOT NULL;

-- +goose Down
DROP INDEX cases_first_contact;
CREATE INDEX cases_first_contact ON cases (first_contact_at);
DROP INDEX cases_closed;
CREATE INDEX cases_closed ON cases (closed_at);
