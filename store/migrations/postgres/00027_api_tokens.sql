-- +goose Up
-- Bearer tokens for the read API (/api/v1). Only a SHA-256 of the token is
-- kept: a token is shown once, when an operator creates it, and a leaked
-- database yields no usable token. Revoking keeps the row for the record.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,                -- read:kpis | read | read:numbers
    token_hash   TEXT NOT NULL UNIQUE,         -- hex SHA-256 of the token
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
-- Keyset pagination of /api/v1/cases walks ids; filtering by change time
-- needs this.
CREATE INDEX cases_updated ON cases (updated_at, id);

-- +goose Down
DROP INDEX cases_updated;
DROP TABLE api_tokens;
