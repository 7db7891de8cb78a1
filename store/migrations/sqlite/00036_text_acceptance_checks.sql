-- +goose Up
-- PostgreSQL's functions for recording a text's acceptance in one
-- statement; SQLite's transactions write one at a time and read what they
-- wrote at no round trip's cost, so it needs none (the versions stay in
-- step).
SELECT 1;

-- +goose Down
SELECT 1;
