-- +goose Up
-- Staff API tokens. Only the SHA-256 of a token is stored; the raw token is shown once.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('sales','admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);
-- a revoked name may be given to a new token
CREATE UNIQUE INDEX uq_api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
