-- +goose Up
-- PostgreSQL's 00007 adds a function that locks an IP and counts its bookings in one round
-- trip; SQLite's one writer needs no lock. Kept so both engines share one version history.
SELECT 1;
