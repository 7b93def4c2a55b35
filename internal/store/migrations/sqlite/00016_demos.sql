-- +goose Up
-- Demo scheduling (SPEC §13): the demos of a lead with their host, the prospect's preferred
-- times on a booking, and the demo an invitation or reminder email is about. A host's demos
-- never overlap (demo_slot_taken): the store checks before it writes, inside the write
-- transaction, and SQLite's one writer makes that check and the write one step.
CREATE TABLE demos (
    id         TEXT PRIMARY KEY,
    lead_id    TEXT NOT NULL REFERENCES leads (id),
    host_id    TEXT NOT NULL REFERENCES staff (id),
    starts_at  DATETIME NOT NULL,
    ends_at    DATETIME NOT NULL,
    -- the invitation's SEQUENCE: 0, then +1 on every reschedule or cancel
    sequence   INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'completed', 'no_show')),
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CHECK (ends_at > starts_at)
);
-- one current demo per lead
CREATE UNIQUE INDEX idx_demos_lead_scheduled ON demos (lead_id) WHERE status = 'scheduled';
CREATE INDEX idx_demos_host_scheduled ON demos (host_id, starts_at) WHERE status = 'scheduled';
CREATE INDEX idx_demos_scheduled_ends ON demos (ends_at) WHERE status = 'scheduled';

-- JSON array of RFC 3339 UTC times, NULL when the prospect chose none
ALTER TABLE bookings ADD COLUMN preferred_times TEXT;
ALTER TABLE email_jobs ADD COLUMN demo_id TEXT REFERENCES demos (id);
