-- +goose Up
-- When the first attempt to send an outgoing message began, committed before
-- Twilio is called: a re-run of a started message asks Twilio whether the
-- text arrived before sending it again.
ALTER TABLE messages ADD COLUMN send_started_at DATETIME;

-- +goose Down
ALTER TABLE messages DROP COLUMN send_started_at;
