-- +goose Up
-- Done rows are history: pruned by age, oldest first, through this index
-- alone, and never read by the queries that run all the time.
CREATE INDEX outbox_done ON outbox (updated_at) WHERE state = 'done';
-- A case's rows still to run (pending or running), for the claim's
-- per-case order: without it the check reads the case's whole history.
CREATE INDEX outbox_case_active ON outbox (case_id, kind) WHERE state IN ('pending', 'running');

-- +goose Down
DROP INDEX outbox_case_active;
DROP INDEX outbox_done;
