-- +goose Up
-- A case's text-back status "queued" meant two things: waiting in
-- Ringback's outbox, and taken by Twilio (whose own first status is
-- "queued"). The card now says "sent" once Twilio has the text, so the
-- text-backs still waiting here are marked "pending", as new ones are.
UPDATE cases SET textback_status = 'pending'
WHERE textback_status = 'queued' AND EXISTS (
    SELECT 1 FROM messages m
    WHERE m.case_id = cases.id AND m.kind = 'textback' AND m.accepted_at IS NULL AND m.status = 'pending');

-- +goose Down
UPDATE cases SET textback_status = 'queued' WHERE textback_status = 'pending';
