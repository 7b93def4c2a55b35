-- +goose Up
-- The sales team as people (SPEC §11): members, the owner of a lead, speed to lead, member
-- tokens and sessions, the actor's id in the audit trail, and email jobs of more kinds than
-- the confirmation (to a member, or about a lead without a booking).
CREATE TABLE staff (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    -- trimmed and lower-cased in Go, like a lead's: one member per address
    email_normalized TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL CHECK (role IN ('sales', 'admin')),
    language         TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en')),
    weight           INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 10),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    away_until       DATETIME,
    -- lead_owner_assignment: how many leads the rule gave this member, and when it last did
    assignments      INTEGER NOT NULL DEFAULT 0,
    last_assigned_at DATETIME,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);

ALTER TABLE leads ADD COLUMN owner_id TEXT REFERENCES staff (id);
ALTER TABLE leads ADD COLUMN first_contacted_at DATETIME;
ALTER TABLE leads ADD COLUMN contact_due_at DATETIME;
CREATE INDEX idx_leads_owner_created ON leads (owner_id, created_at);
-- the overdue filter and the reminder job read only the leads still waiting for contact
CREATE INDEX idx_leads_contact_due ON leads (contact_due_at) WHERE status = 'new' AND first_contacted_at IS NULL;

ALTER TABLE api_tokens ADD COLUMN staff_id TEXT REFERENCES staff (id);

ALTER TABLE lead_events ADD COLUMN actor_id TEXT REFERENCES staff (id);

-- SQLite cannot drop NOT NULL: the two tables whose columns become optional are rebuilt.
-- A console session belongs to a token (service or member) or, signed in by link or single
-- sign-on, to a member directly.
CREATE TABLE console_sessions_new (
    id           TEXT PRIMARY KEY,
    token_id     TEXT REFERENCES api_tokens (id),
    staff_id     TEXT REFERENCES staff (id),
    session_hash TEXT NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    revoked_at   DATETIME,
    CHECK ((token_id IS NULL) <> (staff_id IS NULL))
);
INSERT INTO console_sessions_new (id, token_id, session_hash, created_at, expires_at, revoked_at)
    SELECT id, token_id, session_hash, created_at, expires_at, revoked_at FROM console_sessions;
DROP TABLE console_sessions;
ALTER TABLE console_sessions_new RENAME TO console_sessions;
CREATE INDEX idx_console_sessions_token ON console_sessions (token_id);
CREATE INDEX idx_console_sessions_expires ON console_sessions (expires_at);

-- kind says what the email is; staff_id, when set, is its recipient (else the lead is)
CREATE TABLE email_jobs_new (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL DEFAULT 'confirmation',
    lead_id      TEXT REFERENCES leads (id),
    booking_id   TEXT REFERENCES bookings (id),
    staff_id     TEXT REFERENCES staff (id),
    status       TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_at       DATETIME NOT NULL,
    locked_until DATETIME,
    last_error   TEXT,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
INSERT INTO email_jobs_new (id, lead_id, booking_id, status, attempts, run_at, locked_until, last_error, created_at, updated_at)
    SELECT id, lead_id, booking_id, status, attempts, run_at, locked_until, last_error, created_at, updated_at FROM email_jobs;
DROP TABLE email_jobs;
ALTER TABLE email_jobs_new RENAME TO email_jobs;
CREATE INDEX idx_email_jobs_due ON email_jobs (status, run_at);
CREATE INDEX idx_email_jobs_lead ON email_jobs (lead_id, created_at);
