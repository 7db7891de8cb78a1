-- +goose Up
-- A chat post (a case's card, a thread entry) whose attempt began: a re-run
-- after a crash asks the platform for it before posting again, and once
-- message_id is known never posts it again.
CREATE TABLE chat_posts (
    platform   TEXT NOT NULL,                -- slack | discord
    post_key   TEXT NOT NULL,                -- card:<case id>, entry:<outbox id>
    started_at TIMESTAMPTZ NOT NULL,         -- the first attempt's start
    channel    TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',     -- '' until the post's answer was saved
    PRIMARY KEY (platform, post_key)
);

-- +goose Down
DROP TABLE chat_posts;
