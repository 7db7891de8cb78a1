-- +goose Up
-- How far a periodic scan of a remote has got (the reconciler's last call
-- seen at Twilio), so that it resumes there after an outage or a restart.
CREATE TABLE watermarks (
    name       TEXT PRIMARY KEY,
    mark       TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE watermarks;
