-- +goose Up
-- The caller's callback picker (/c/{token}). A link is known only by the
-- SHA-256 of its token: the token itself lives in the text that carried it,
-- and a leaked table opens no case.
CREATE TABLE callback_links (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases(id),
    token_hash  TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the token
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    picks       INTEGER NOT NULL DEFAULT 0,    -- picks made through it
    used_at     TIMESTAMPTZ                    -- its latest pick
);
CREATE INDEX callback_links_case ON callback_links (case_id);

-- A case's requested callback: one per case, changed by picking again.
-- seat is the slot's place taken (0 … capacity-1), NULL when the line's
-- slots have no capacity; the unique index is what keeps a full slot full
-- when two callers pick its last place at once.
CREATE TABLE callback_requests (
    case_id     BIGINT PRIMARY KEY REFERENCES cases(id),
    line_number TEXT NOT NULL,
    slot_at     TIMESTAMPTZ NOT NULL,
    seat        INTEGER,
    category    TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    picks       INTEGER NOT NULL DEFAULT 1,
    picked_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX callback_requests_seat ON callback_requests (line_number, slot_at, seat);

-- The slot of the case's request while the case is open: its due time
-- whatever else changes (a claim, a category), until it closes.
ALTER TABLE cases ADD COLUMN callback_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE cases DROP COLUMN callback_at;
DROP TABLE callback_requests;
DROP TABLE callback_links;
