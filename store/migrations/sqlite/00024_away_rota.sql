-- +goose Up
-- Staff who marked themselves away (/callbacks away until …): the rota
-- skips them until then. One row a person; /callbacks back deletes it.
CREATE TABLE staff_away (
    user_id    TEXT NOT NULL PRIMARY KEY,    -- Slack U… or Discord user id
    until      DATETIME NOT NULL,
    set_at     DATETIME NOT NULL
);

-- Round-robin turns taken per line and category ('' = the line's own
-- rota), so the next case goes to the next person whatever cases were
-- reassigned or deleted since.
CREATE TABLE rota_turns (
    line_number TEXT NOT NULL,
    category    TEXT NOT NULL,
    turns       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (line_number, category)
);

-- +goose Down
DROP TABLE rota_turns;
DROP TABLE staff_away;
