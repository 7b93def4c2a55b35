-- +goose Up
-- Webhook subscriptions. The secret must be kept in clear to sign deliveries; it is shown to
-- the admin once, when created. Subscriptions are soft-deleted (deleted_at) so that their
-- delivery log keeps pointing at a row.
CREATE TABLE webhooks (
    id         UUID PRIMARY KEY,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL, -- JSON array of event names
    secret     TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);

-- The delivery queue: one row per (subscription, event), enqueued in the transaction of the
-- change. The id is the webhook-id header, the same on every attempt and redelivery. The
-- payload is a snapshot of the lead; an erasure rewrites it (scrubWebhookPayloads).
CREATE TABLE webhook_deliveries (
    id               UUID PRIMARY KEY,
    webhook_id       UUID NOT NULL REFERENCES webhooks (id),
    lead_id          UUID NOT NULL REFERENCES leads (id),
    event            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending','running','delivered','failed','cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    locked_until     TIMESTAMPTZ,
    last_status_code INTEGER,
    last_error       TEXT,
    -- when it was last queued (enqueue or redelivery): retries stop 24 hours after this
    queued_at        TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX idx_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX idx_webhook_deliveries_lead ON webhook_deliveries (lead_id);
-- the IP retention job clears addresses in payloads older than the retention period
CREATE INDEX idx_webhook_deliveries_created ON webhook_deliveries (created_at);
