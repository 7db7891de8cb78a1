-- +goose Up
-- A case is rewritten a few times in its first seconds (its text-back
-- taken, delivered). Those that change no indexed column (a receipt's
-- text-back status) can stay beside the row with no new index entry (a
-- HOT update) only when its page has room: new pages keep a fifth free.
ALTER TABLE cases SET (fillfactor = 80);

-- +goose Down
ALTER TABLE cases RESET (fillfactor);
