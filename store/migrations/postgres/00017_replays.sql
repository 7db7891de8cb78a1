-- +goose Up
-- Signed chat requests already accepted (Slack, Discord), kept while their
-- signature is still valid: a captured request sent again, to any replica
-- or after a restart, is refused. Pruned as it expires.
CREATE TABLE seen_requests (
    request_key TEXT NOT NULL PRIMARY KEY,   -- platform:timestamp:hex of the decoded signature
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);

-- +goose Down
DROP TABLE seen_requests;
