-- +goose Up
-- When the latest attempt of a post called out and has not answered yet:
-- a re-run while it may still land waits for it rather than search the
-- platform too early and post a second copy. NULL once it answered.
ALTER TABLE chat_posts ADD COLUMN in_flight_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE chat_posts DROP COLUMN in_flight_at;
