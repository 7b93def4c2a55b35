-- +goose Up
-- The booking walks one way (issue 12): an Idempotency-Key remembers the booking it made,
-- the warnings it was answered with (JSON, a list of lead.Issue) and its body's hash, not
-- a rendered answer; intake renders the replay from them. Keys stored before keep their
-- replay: their answer held both.
ALTER TABLE idempotency_keys ADD COLUMN booking_id TEXT;
ALTER TABLE idempotency_keys ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
UPDATE idempotency_keys SET booking_id = json_extract(response, '$.booking_id'),
    warnings = CASE WHEN json_type(response, '$.warnings') = 'array' THEN json_extract(response, '$.warnings') ELSE '[]' END
WHERE json_valid(response);
DELETE FROM idempotency_keys WHERE booking_id IS NULL;
ALTER TABLE idempotency_keys DROP COLUMN response;
