-- +goose Up
-- The IP retention job looks for old rows that still hold an address. Partial indexes keep
-- that lookup proportional to what is left to clear, not to the whole history.
CREATE INDEX idx_leads_ip_retention ON leads (created_at) WHERE ip_address IS NOT NULL;
CREATE INDEX idx_bookings_ip_retention ON bookings (created_at) WHERE ip_address IS NOT NULL;
