-- +goose Up
-- Card refreshes look for a newer one waiting for the same case.
CREATE INDEX outbox_case ON outbox (case_id, kind) WHERE state = 'pending';

-- +goose Down
DROP INDEX outbox_case;
