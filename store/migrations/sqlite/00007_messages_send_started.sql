-- +goose Up
-- When the first attempt to send an outgoing message began, committed before
-- Twilio is called: a re-run of a started message asks Twilio whether the
-- text arrived before sending it again.
ALTER TABLE messages ADD COLUMN send_started_at DATETIME;
-- An early receipt keeps what the provider's error means (the bot's word),
-- so the bot never reads the provider's codes.
ALTER TABLE early_receipts ADD COLUMN problem TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE early_receipts DROP COLUMN problem;
ALTER TABLE messages DROP COLUMN send_started_at;
