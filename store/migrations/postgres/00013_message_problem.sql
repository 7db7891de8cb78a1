-- +goose Up
-- What a failed outgoing text's error means, in the bot's words
-- (unreachable, not_textable…): the card and the thread say it plainly and
-- the bot never reads the provider's codes.
ALTER TABLE messages ADD COLUMN problem TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE messages DROP COLUMN problem;
