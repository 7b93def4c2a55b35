-- +goose Up
-- Sessions of the sales console. Only the SHA-256 of the cookie value is stored; a session
-- is live while unexpired, unrevoked, and its token is unrevoked.
CREATE TABLE console_sessions (
    id           UUID PRIMARY KEY,
    token_id     UUID NOT NULL REFERENCES api_tokens (id),
    session_hash TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX idx_console_sessions_token ON console_sessions (token_id);
CREATE INDEX idx_console_sessions_expires ON console_sessions (expires_at);
