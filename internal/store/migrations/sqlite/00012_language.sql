-- +goose Up
-- The prospect's language (SPEC §12): the negotiated language of the booking, and on the
-- lead the latest booking's (or what staff set); it picks the confirmation email's language.
ALTER TABLE leads ADD COLUMN language TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en'));
ALTER TABLE bookings ADD COLUMN language TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en'));
