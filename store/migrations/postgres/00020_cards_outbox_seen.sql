-- +goose Up
-- The newest outbox row committed when a card's first post was reserved:
-- the card is rendered after its reservation, so a refresh row of its case
-- no newer than this changed nothing the card does not show (0: unknown).
ALTER TABLE cards ADD COLUMN outbox_seen BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE cards DROP COLUMN outbox_seen;
