-- +goose Up
-- Issue 17: two indexes of the outbox that every missed call wrote into
-- and nothing running all the time read; each took one in twenty of the
-- index entries a missed call writes.
-- outbox_lease (running rows by lease end) took an entry at every claim:
-- the claim finds lapsed leases through outbox_lane_active (pending and
-- running rows), and the reads of running rows (the lanes' next wake-up,
-- the backlog, whether the outbox is busy) read that index too, whose rows
-- are the few still to settle, never the done history.
DROP INDEX outbox_lease;
-- outbox_done (done rows by age) took one as each row finished, for a
-- prune an hour: the prune reads the primary key below the first row
-- created after the retention (store.PruneOutbox).
DROP INDEX outbox_done;

-- +goose Down
CREATE INDEX outbox_done ON outbox (updated_at) WHERE state = 'done';
CREATE INDEX outbox_lease ON outbox (lease_until) WHERE state = 'running';
