-- +goose Up
-- KPI backlog: cases closed at or after a period's end.
CREATE INDEX cases_closed ON cases (closed_at);

-- +goose Down
DROP INDEX cases_closed;
