-- +goose Up
-- Sign-in links by email (SPEC §11): only the SHA-256 of a link's token is kept; a link is
-- good once (used_at) and for a short while (expires_at).
CREATE TABLE signin_links (
    id         UUID PRIMARY KEY,
    staff_id   UUID NOT NULL REFERENCES staff (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX idx_signin_links_expires ON signin_links (expires_at);
-- the hourly limit of link emails counts a member's recent jobs of that kind
CREATE INDEX idx_email_jobs_staff_kind ON email_jobs (staff_id, kind, created_at) WHERE staff_id IS NOT NULL;
