-- +goose Up
-- Search (GET /api/v1/leads?q=): a case-insensitive substring of the first and last name,
-- email or organization name, answered by a trigram index instead of a table scan.
-- search_doc is "first last\nemail\norganization", lower-cased once when the row is
-- written: the space lets a full name match, the newlines keep a match from spanning two
-- fields (a search term never contains a control character), and testing a row is then a
-- plain LIKE, several times cheaper than ILIKE over the concatenation. PostgreSQL keeps it
-- in step with every insert and update (an erasure included). postgresDialect.searchCond
-- queries it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE leads ADD COLUMN search_doc TEXT GENERATED ALWAYS AS
    (lower(first_name || ' ' || last_name || E'\n' || email || E'\n' || organization_name)) STORED;
CREATE INDEX idx_leads_search ON leads USING gin (search_doc gin_trgm_ops);
-- The planner weighs this index against walking created_at by how many leads a term
-- matches, which it estimates from the column's statistics; ten times the default sample
-- tells a 1% term from a 0.01% one, where the default sees both as "rare".
ALTER TABLE leads ALTER COLUMN search_doc SET STATISTICS 1000;
