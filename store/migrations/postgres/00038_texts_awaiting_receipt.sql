-- +goose Up
-- Texts whose receipt never came are asked about (store.TextsAwaitingReceipt):
-- the pass reads the outgoing texts accepted in a window of time. A text
-- enters the index once, when it is accepted; its receipts change only its
-- status, which the index leaves out, so they stay HOT updates.
CREATE INDEX messages_accepted ON messages (accepted_at) WHERE direction = 'out' AND accepted_at IS NOT NULL;

-- +goose Down
DROP INDEX messages_accepted;
