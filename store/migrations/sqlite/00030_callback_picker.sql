-- +goose Up
-- The caller's callback picker (/c/{token}). A link is known only by the
-- SHA-256 of its token: the token itself lives in the text that carried it,
-- and a leaked table opens no case.
CREATE TABLE callback_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    token_hash  TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the token
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    picks       INTEGER NOT NULL DEFAULT 0,    -- picks made through it
    used_at     DATETIME                    -- its latest pick
);
CREATE INDEX callback_links_case ON callback_links (case_id);

-- A case's requested callback: one per case, changed by picking again.
-- seat is the slot's place taken (0 … capacity-1), NULL when the line's
-- slots have no capacity; the unique index is what keeps a full slot full
-- when two callers pick its last place at once.
CREATE TABLE callback_requests (
    case_id     INTEGER PRIMARY KEY REFERENCES cases(id),
    line_number TEXT NOT NULL,
    slot_at     DATETIME NOT NULL,
    seat        INTEGER,
    category    TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    picks       INTEGER NOT NULL DEFAULT 1,
    picked_at   DATETIME NOT NULL
);
CREATE UNIQUE INDEX callback_requests_seat ON callback_requests (line_number, slot_at, seat);

-- The slot of the case's request while the case is open: its due time
-- whatever else changes (a claim, a category), until it closes.
ALTER TABLE cases ADD COLUMN callback_at DATETIME;

-- +goose Down
ALTER TABLE cases DROP COLUMN callback_at;
DROP TABLE callback_requests;
DROP TABLE callback_links;
