-- +goose Up
CREATE TABLE leads (
    id                TEXT PRIMARY KEY,
    first_name        TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    email             TEXT NOT NULL,
    -- trimmed and lower-cased in Go (Unicode-aware, unlike SQLite's lower()); the dedup key
    email_normalized  TEXT NOT NULL,
    phone             TEXT,
    organization_name TEXT NOT NULL,
    organization_type TEXT,
    organization_size TEXT,
    role_title        TEXT,
    source            TEXT NOT NULL CHECK (source IN ('demo_booking','contact_form','email','phone','event','referral','partner','social_media','import','other')),
    status            TEXT NOT NULL CHECK (status IN ('new','contacted','qualified','demo_scheduled','demo_completed','proposal_sent','negotiation','won','lost','disqualified')),
    notes             TEXT,
    message           TEXT,
    utm_source        TEXT,
    utm_medium        TEXT,
    utm_campaign      TEXT,
    ip_address        TEXT,
    consent_given     BOOLEAN NOT NULL CHECK (consent_given),
    consent_timestamp DATETIME NOT NULL,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    anonymized_at     DATETIME
);
CREATE INDEX idx_leads_email ON leads (email);
CREATE INDEX idx_leads_status ON leads (status);
CREATE INDEX idx_leads_source ON leads (source);
CREATE INDEX idx_leads_created_at ON leads (created_at);
CREATE INDEX idx_leads_organization_name ON leads (organization_name);
CREATE INDEX idx_leads_status_created ON leads (status, created_at);
-- lead_deduplication_by_email lives here: two live leads can never share an address.
CREATE UNIQUE INDEX uq_leads_email_normalized ON leads (email_normalized) WHERE anonymized_at IS NULL;

CREATE TABLE bookings (
    id                TEXT PRIMARY KEY,
    lead_id           TEXT NOT NULL REFERENCES leads (id),
    first_name        TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    email             TEXT NOT NULL,
    phone             TEXT,
    organization_name TEXT NOT NULL,
    organization_type TEXT,
    organization_size TEXT,
    role_title        TEXT,
    message           TEXT,
    utm_source        TEXT,
    utm_medium        TEXT,
    utm_campaign      TEXT,
    ip_address        TEXT,
    user_agent        TEXT,
    consent_version   TEXT NOT NULL,
    consent_timestamp DATETIME NOT NULL,
    created_at        DATETIME NOT NULL
);
-- rate_limit_per_ip counts an IP's bookings of the last window through this index.
CREATE INDEX idx_bookings_ip_created ON bookings (ip_address, created_at);
CREATE INDEX idx_bookings_lead ON bookings (lead_id, created_at);
CREATE INDEX idx_bookings_created_at ON bookings (created_at);

CREATE TABLE lead_events (
    id         TEXT PRIMARY KEY,
    lead_id    TEXT NOT NULL REFERENCES leads (id),
    type       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '{}',
    created_at DATETIME NOT NULL
);
CREATE INDEX idx_lead_events_lead ON lead_events (lead_id, created_at);

-- The confirmation email queue. Jobs carry ids only: the address and name are read from the
-- lead when sending, so an erasure leaves nothing personal in the queue.
CREATE TABLE email_jobs (
    id           TEXT PRIMARY KEY,
    lead_id      TEXT NOT NULL REFERENCES leads (id),
    booking_id   TEXT NOT NULL REFERENCES bookings (id),
    status       TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_at       DATETIME NOT NULL,
    locked_until DATETIME,
    last_error   TEXT,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
CREATE INDEX idx_email_jobs_due ON email_jobs (status, run_at);
CREATE INDEX idx_email_jobs_lead ON email_jobs (lead_id, created_at);

-- Idempotency-Key replays: the key is stored hashed together with the client IP.
CREATE TABLE idempotency_keys (
    key_hash   TEXT PRIMARY KEY,
    response   TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX idx_idempotency_created ON idempotency_keys (created_at);

-- lead_soft_delete_only: no hard delete, not even from a console session.
-- +goose StatementBegin
CREATE TRIGGER leads_no_delete BEFORE DELETE ON leads
BEGIN
    SELECT RAISE(ABORT, 'leads are never deleted (lead_soft_delete_only): set status lost or disqualified, or anonymize');
END;
-- +goose StatementEnd
