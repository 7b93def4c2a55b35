-- +goose Up
-- A group commit (groupcommit.go) runs each booking under its own SAVEPOINT, and FTS5
-- flushes its pending terms into a new index segment at every RELEASE: one segment per
-- booking, merged again later (a sixth of a booking's CPU at 64 clients). While a row of
-- leads_search_deferred exists, which only a group's own transaction ever writes and
-- deletes again before its COMMIT, the insert trigger leaves the new lead out of the search
-- index; the group then indexes all its new leads in one statement just before the COMMIT
-- (one segment per group). Readers never see the row nor a lead without its index entry:
-- both are in the one transaction. Every other writer (imports, staff, the generator) finds
-- the table empty and indexes as before.
CREATE TABLE leads_search_deferred (since_rowid INTEGER NOT NULL);
DROP TRIGGER leads_search_insert;
-- +goose StatementBegin
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_search (rowid, doc)
    SELECT 1099511627776 - new.rowid, new.first_name || ' ' || new.last_name || char(10) || new.email || char(10) || new.organization_name
    WHERE NOT EXISTS (SELECT 1 FROM leads_search_deferred);
    INSERT INTO leads_search_late (lead_rowid)
    SELECT new.rowid WHERE new.created_at < (SELECT created_at FROM leads WHERE rowid <> new.rowid ORDER BY created_at DESC LIMIT 1);
END;
-- +goose StatementEnd
