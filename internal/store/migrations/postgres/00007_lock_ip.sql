-- +goose Up
-- A booking's per-IP lock and its rate-limit count in one round trip: the count must be
-- read after the lock is held (a statement's snapshot predates a lock it takes itself),
-- and a VOLATILE function takes a fresh snapshot for each statement it runs.
-- +goose StatementBegin
CREATE FUNCTION lock_ip_recent_bookings(client_ip TEXT, since TIMESTAMPTZ) RETURNS SETOF TIMESTAMPTZ
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(client_ip, 7236));
    RETURN QUERY SELECT created_at FROM bookings WHERE ip_address = client_ip AND created_at > since ORDER BY created_at;
END
$$;
-- +goose StatementEnd
