-- +goose Up
-- Spam defence (SPEC §15). spam_keys holds the one HMAC key of the proof of work and the
-- form's time stamp, shared by every instance (created once, by whoever comes first).
CREATE TABLE spam_keys (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    hmac_key   TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
-- A challenge is accepted once: the insert of its hash is the atomic "use", so two
-- instances cannot both accept one solution. Rows go when the challenge has expired.
CREATE TABLE used_challenges (
    challenge  TEXT PRIMARY KEY,
    expires_at DATETIME NOT NULL
);
CREATE INDEX idx_used_challenges_expires ON used_challenges (expires_at);
-- A public booking that failed the spam check, kept for review: what is needed to book it
-- later. Personal data: deleted on release, discard, erasure by email, or after 30 days.
CREATE TABLE held_bookings (
    id               TEXT PRIMARY KEY,
    booking          TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    ip_address       TEXT,
    rate_key         TEXT,
    user_agent       TEXT,
    consent_version  TEXT NOT NULL,
    language         TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en')),
    reason           TEXT NOT NULL,
    idempotency_hash TEXT UNIQUE,
    created_at       DATETIME NOT NULL
);
CREATE INDEX idx_held_bookings_created ON held_bookings (created_at);
CREATE INDEX idx_held_bookings_email ON held_bookings (email_normalized);
-- held submissions count against their own per-IP limit, so that a bot cannot fill the table
CREATE INDEX idx_held_bookings_rate_key ON held_bookings (rate_key, created_at);
-- Addresses, domains and networks whose bookings are dropped (answered 201, nothing stored
-- but the hit count).
CREATE TABLE blocklist (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'domain', 'ip')),
    value       TEXT NOT NULL,
    hits        INTEGER NOT NULL DEFAULT 0,
    last_hit_at DATETIME,
    created_at  DATETIME NOT NULL,
    UNIQUE (kind, value)
);
