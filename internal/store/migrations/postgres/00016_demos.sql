-- +goose Up
-- Demo scheduling (SPEC §13): the demos of a lead with their host, the prospect's preferred
-- times on a booking, and the demo an invitation or reminder email is about.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE demos (
    id         UUID PRIMARY KEY,
    lead_id    UUID NOT NULL REFERENCES leads (id),
    host_id    UUID NOT NULL REFERENCES staff (id),
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    -- the invitation's SEQUENCE: 0, then +1 on every reschedule or cancel
    sequence   INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'completed', 'no_show')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at),
    -- demo_slot_taken: a host never has two scheduled demos at once, whoever writes them
    CONSTRAINT demos_host_no_overlap EXCLUDE USING gist (host_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (status = 'scheduled')
);
-- one current demo per lead
CREATE UNIQUE INDEX idx_demos_lead_scheduled ON demos (lead_id) WHERE status = 'scheduled';
-- the offered slots and the demos to close read the scheduled ones by time
CREATE INDEX idx_demos_scheduled_ends ON demos (ends_at) WHERE status = 'scheduled';

-- JSON array of RFC 3339 UTC times, NULL when the prospect chose none
ALTER TABLE bookings ADD COLUMN preferred_times TEXT;
ALTER TABLE email_jobs ADD COLUMN demo_id UUID REFERENCES demos (id);
