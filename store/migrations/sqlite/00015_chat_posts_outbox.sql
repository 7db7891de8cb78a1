-- +goose Up
-- A chat post's record names the outbox row that made it, so that records
-- are pruned only once that row is done (a row a person may still requeue
-- keeps its record). NULL on records from before: their age alone decides.
ALTER TABLE chat_posts ADD COLUMN outbox_id INTEGER;
CREATE INDEX chat_posts_started ON chat_posts (started_at);

-- +goose Down
DROP INDEX chat_posts_started;
ALTER TABLE chat_posts DROP COLUMN outbox_id;
