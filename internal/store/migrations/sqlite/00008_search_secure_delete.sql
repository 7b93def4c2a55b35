-- +goose Up
-- An erasure (or a staff edit of a name, email or organization) takes the lead's old
-- document out of the search index. In a contentless_delete table that only records a
-- tombstone and leaves the old trigrams in the file until a merge happens to rewrite their
-- segment. A plain contentless table with FTS5's 'secure-delete' option, given the old
-- document by the 'delete' command, removes them from the index at once: erased personal
-- data leaves the file with the transaction that erased it (PRAGMA secure_delete zeroes the
-- freed bytes). The index is built again, in ascending rowid order (one pass).
DROP TABLE leads_search;
CREATE VIRTUAL TABLE leads_search USING fts5(doc, content='', tokenize='trigram');
INSERT INTO leads_search (leads_search, rank) VALUES ('secure-delete', 1);
INSERT INTO leads_search (rowid, doc)
    SELECT 1099511627776 - rowid, first_name || ' ' || last_name || char(10) || email || char(10) || organization_name
    FROM leads ORDER BY rowid DESC;
DROP TRIGGER leads_search_update;
-- +goose StatementBegin
CREATE TRIGGER leads_search_update AFTER UPDATE OF first_name, last_name, email, organization_name ON leads BEGIN
    INSERT INTO leads_search (leads_search, rowid, doc)
    VALUES ('delete', 1099511627776 - old.rowid, old.first_name || ' ' || old.last_name || char(10) || old.email || char(10) || old.organization_name);
    INSERT INTO leads_search (rowid, doc)
    VALUES (1099511627776 - new.rowid, new.first_name || ' ' || new.last_name || char(10) || new.email || char(10) || new.organization_name);
END;
-- +goose StatementEnd
