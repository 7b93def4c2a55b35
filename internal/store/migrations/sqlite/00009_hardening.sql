-- +goose Up
-- idempotency_key_reused: a key remembers the hash of the canonical body it came with, so
-- that the same key with a different body is refused instead of replayed. Keys stored
-- before this have none and replay as before.
ALTER TABLE idempotency_keys ADD COLUMN body_hash TEXT;

-- rate_limit_per_ip counts a client by its key: the IPv4 address, or the /64 of an IPv6
-- address (one household or server gets a whole /64). ip_address keeps the full address
-- as the consent record; the count reads the key through this index, which replaces the
-- address's.
ALTER TABLE bookings ADD COLUMN rate_key TEXT;
UPDATE bookings SET rate_key = ip_address WHERE ip_address IS NOT NULL;
DROP INDEX idx_bookings_ip_created;
CREATE INDEX idx_bookings_rate_key_created ON bookings (rate_key, created_at);
