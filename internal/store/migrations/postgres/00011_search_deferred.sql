-- +goose Up
-- SQLite's 00011 lets a group commit index its new leads in one statement before the
-- COMMIT. PostgreSQL has no group commit; its GIN index is written with each row. Kept so
-- both engines share one version history.
SELECT 1;
