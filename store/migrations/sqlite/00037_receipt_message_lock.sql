-- +goose Up
-- PostgreSQL's function reading a receipt's text under its SID's lock;
-- SQLite's transactions write one at a time, so it needs none (the
-- versions stay in step).
SELECT 1;

-- +goose Down
SELECT 1;
