-- +goose Up
-- Issue 17: every claim of an outbox row wrote an entry into outbox_lease
-- (running rows by lease end), one in ten of the outbox's index entries a
-- missed call writes. Nothing needs it: the claim finds lapsed leases
-- through outbox_lane_active (pending and running rows), and the reads of
-- running rows (the lanes' next wake-up, the backlog, whether the outbox
-- is busy) read that index too, whose rows are the few still to settle,
-- never the done history.
DROP INDEX outbox_lease;

-- +goose Down
CREATE INDEX outbox_lease ON outbox (lease_until) WHERE state = 'running';
