-- +goose Up
-- The digest reads the callbacks scheduled in a week by their slot.
CREATE INDEX callback_requests_slot ON callback_requests (slot_at);

-- +goose Down
DROP INDEX callback_requests_slot;
