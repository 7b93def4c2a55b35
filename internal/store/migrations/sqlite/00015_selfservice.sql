-- +goose Up
-- The prospect's own page (SPEC §14). A personal link is 32 random bytes of which only the
-- SHA-256 is stored; erasure revokes a lead's links in its transaction (the link then
-- answers 410 until it would have expired, and is purged after that).
CREATE TABLE personal_links (
    id         TEXT PRIMARY KEY,
    lead_id    TEXT NOT NULL REFERENCES leads (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE INDEX idx_personal_links_lead ON personal_links (lead_id);
CREATE INDEX idx_personal_links_expires ON personal_links (expires_at);

-- POST /my per client (its rate key, like the booking's), for the per-IP limit; rows leave
-- once out of the window. Only the key is kept, never the address asked about.
CREATE TABLE personal_link_requests (
    id         TEXT PRIMARY KEY,
    rate_key   TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX idx_personal_link_requests_key ON personal_link_requests (rate_key, created_at);
CREATE INDEX idx_personal_link_requests_created ON personal_link_requests (created_at);

-- the personal link emails of one lead in the last 24 hours (at most 3)
CREATE INDEX idx_email_jobs_lead_kind ON email_jobs (lead_id, kind, created_at);

-- inactive retention: lost or disqualified leads, oldest change first
CREATE INDEX idx_leads_inactive ON leads (updated_at) WHERE status IN ('lost', 'disqualified') AND anonymized_at IS NULL;
