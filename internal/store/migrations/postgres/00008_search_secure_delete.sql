-- +goose Up
-- SQLite's 00008 makes its FTS5 search index remove an erased lead's trigrams at once.
-- PostgreSQL's GIN index is maintained in place (and vacuumed); nothing to do. Kept so both
-- engines share one version history.
SELECT 1;
