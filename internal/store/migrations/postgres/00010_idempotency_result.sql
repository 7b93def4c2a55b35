-- +goose Up
-- The booking walks one way (issue 12): an Idempotency-Key remembers the booking it made,
-- the warnings it was answered with (JSON, a list of lead.Issue) and its body's hash, not
-- a rendered answer; intake renders the replay from them. Keys stored before keep their
-- replay: their answer held both.
ALTER TABLE idempotency_keys ADD COLUMN booking_id TEXT;
ALTER TABLE idempotency_keys ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
UPDATE idempotency_keys SET booking_id = response::jsonb ->> 'booking_id',
    warnings = CASE WHEN jsonb_typeof(response::jsonb -> 'warnings') = 'array' THEN (response::jsonb -> 'warnings')::text ELSE '[]' END;
DELETE FROM idempotency_keys WHERE booking_id IS NULL;
ALTER TABLE idempotency_keys DROP COLUMN response;
