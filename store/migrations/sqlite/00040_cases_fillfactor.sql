-- +goose Up
-- PostgreSQL's page room for a case's updates; SQLite has no such setting
-- (the versions stay in step).
SELECT 1;

-- +goose Down
SELECT 1;
