-- +goose Up
-- PostgreSQL's function for a missed call's intake in one statement;
-- SQLite's transactions write one at a time, so it needs none (the
-- versions stay in step).
SELECT 1;

-- +goose Down
SELECT 1;
