-- +goose Up
-- Search (GET /api/v1/leads?q=): a case-insensitive substring of the first and last name,
-- email or organization name, answered by a trigram index instead of a table scan.
-- The indexed document is "first last\nemail\norganization": the space lets a full name
-- match, the newlines keep a match from spanning two fields (a search term never contains
-- a control character). postgresDialect.searchCond uses this exact expression.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_leads_search ON leads USING gin (
    (first_name || ' ' || last_name || E'\n' || email || E'\n' || organization_name) gin_trgm_ops);
