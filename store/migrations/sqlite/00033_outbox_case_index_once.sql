-- +goose Up
-- outbox_case (case_id, kind, id) over the same active rows answers every
-- query outbox_case_active did; one index less to write per outbox change.
DROP INDEX outbox_case_active;

-- +goose Down
CREATE INDEX outbox_case_active ON outbox (case_id, kind) WHERE state IN ('pending', 'running');
