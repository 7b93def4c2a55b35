-- +goose Up
-- Search (GET /api/v1/leads?q=): a case-insensitive substring of the first and last name,
-- email or organization name, answered by an FTS5 trigram index instead of a table scan.
-- The indexed document is "first last\nemail\norganization": the space lets a full name
-- match, the newlines keep a match from spanning two fields (a search term never contains
-- a control character). sqliteDialect.searchCond and the triggers below use this expression.
--
-- Contentless (the text lives in leads only) and keyed by the leads rowid. Leads are never
-- deleted, so their rowids are dense and VACUUM keeps them. The triggers keep the index in
-- step with every insert and with every update of the four searched columns (an erasure
-- included), in the same transaction.
CREATE VIRTUAL TABLE leads_search USING fts5(doc, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO leads_search (rowid, doc)
    SELECT rowid, first_name || ' ' || last_name || char(10) || email || char(10) || organization_name FROM leads;
-- +goose StatementBegin
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_search (rowid, doc)
    VALUES (new.rowid, new.first_name || ' ' || new.last_name || char(10) || new.email || char(10) || new.organization_name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER leads_search_update AFTER UPDATE OF first_name, last_name, email, organization_name ON leads BEGIN
    DELETE FROM leads_search WHERE rowid = old.rowid;
    INSERT INTO leads_search (rowid, doc)
    VALUES (new.rowid, new.first_name || ' ' || new.last_name || char(10) || new.email || char(10) || new.organization_name);
END;
-- +goose StatementEnd
