-- +goose Up
-- A worker claims a lane's oldest due rows: this index hands them out in
-- id order, lane by lane, past neither done rows (history) nor other
-- lanes' backlog, so a claim stops after the rows it takes.
CREATE INDEX outbox_lane_active ON outbox (lane, id) WHERE state IN ('pending', 'running');

-- +goose Down
DROP INDEX outbox_lane_active;
