-- +goose Up
-- The list's order, whole: without it, SQLite walks created_at and sorts every run of equal
-- timestamps by id on the way, which costs a CSV export of a million leads half its speed.
-- (PostgreSQL's incremental sort does the same job cheaply.)
CREATE INDEX idx_leads_created_id ON leads (created_at, id);

-- Search (GET /api/v1/leads?q=): a case-insensitive substring of the first and last name,
-- email or organization name, answered by an FTS5 trigram index instead of a table scan.
-- The indexed document is "first last\nemail\norganization": the space lets a full name
-- match, the newlines keep a match from spanning two fields (a search term never contains
-- a control character). sqliteDialect (dialect.go) uses this same expression.
--
-- Contentless: the text lives in leads only. The index's rowid is 2^40 - leads.rowid, so
-- that its ascending order, which FTS5 walks fastest, is newest first: a page of matches
-- is read straight off the index and the walk stops when the page is full, however many
-- leads match. That holds for leads inserted in created_at order, which is how the service
-- inserts them; the few that arrive out of order (a clock step, backdated generated data)
-- are listed in leads_search_late and merged in separately. Leads are never deleted, so
-- their rowids are dense and VACUUM keeps them. The triggers keep all of it in step with
-- every insert and every update of the four searched columns (an erasure included).
CREATE VIRTUAL TABLE leads_search USING fts5(doc, content='', contentless_delete=1, tokenize='trigram');
CREATE TABLE leads_search_late (lead_rowid INTEGER PRIMARY KEY);
INSERT INTO leads_search (rowid, doc)
    SELECT 1099511627776 - rowid, first_name || ' ' || last_name || char(10) || email || char(10) || organization_name FROM leads;
INSERT INTO leads_search_late (lead_rowid)
    SELECT rowid FROM (SELECT rowid, created_at,
        MAX(created_at) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS newest_before FROM leads)
    WHERE created_at < newest_before;
-- +goose StatementBegin
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_search (rowid, doc)
    VALUES (1099511627776 - new.rowid, new.first_name || ' ' || new.last_name || char(10) || new.email || char(10) || new.organization_name);
    INSERT INTO leads_search_late (lead_rowid)
    SELECT new.rowid WHERE new.created_at < (SELECT created_at FROM leads WHERE rowid <> new.rowid ORDER BY created_at DESC LIMIT 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER leads_search_update AFTER UPDATE OF first_name, last_name, email, organization_name ON leads BEGIN
    DELETE FROM leads_search WHERE rowid = 1099511627776 - old.rowid;
    INSERT INTO leads_search (rowid, doc)
    VALUES (1099511627776 - new.rowid, new.first_name || ' ' || new.last_name || char(10) || new.email || char(10) || new.organization_name);
END;
-- +goose StatementEnd
