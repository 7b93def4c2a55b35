-- +goose Up
-- The sales team as people (SPEC §11): members, the owner of a lead, speed to lead, member
-- tokens and sessions, the actor's id in the audit trail, and email jobs of more kinds than
-- the confirmation (to a member, or about a lead without a booking).
CREATE TABLE staff (
    id               UUID PRIMARY KEY,
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    -- trimmed and lower-cased in Go, like a lead's: one member per address
    email_normalized TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL CHECK (role IN ('sales', 'admin')),
    language         TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en')),
    weight           INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 10),
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    away_until       TIMESTAMPTZ,
    -- lead_owner_assignment: how many leads the rule gave this member, and when it last did
    assignments      INTEGER NOT NULL DEFAULT 0,
    last_assigned_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

ALTER TABLE leads ADD COLUMN owner_id UUID REFERENCES staff (id);
ALTER TABLE leads ADD COLUMN first_contacted_at TIMESTAMPTZ;
ALTER TABLE leads ADD COLUMN contact_due_at TIMESTAMPTZ;
CREATE INDEX idx_leads_owner_created ON leads (owner_id, created_at);
-- the overdue filter and the reminder job read only the leads still waiting for contact
CREATE INDEX idx_leads_contact_due ON leads (contact_due_at) WHERE status = 'new' AND first_contacted_at IS NULL;

ALTER TABLE api_tokens ADD COLUMN staff_id UUID REFERENCES staff (id);

-- a console session belongs to a token (service or member) or, signed in by link or single
-- sign-on, to a member directly
ALTER TABLE console_sessions ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE console_sessions ADD COLUMN staff_id UUID REFERENCES staff (id);
ALTER TABLE console_sessions ADD CONSTRAINT console_sessions_one_principal CHECK ((token_id IS NULL) <> (staff_id IS NULL));

ALTER TABLE lead_events ADD COLUMN actor_id UUID REFERENCES staff (id);

-- kind says what the email is; staff_id, when set, is its recipient (else the lead is)
ALTER TABLE email_jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'confirmation';
ALTER TABLE email_jobs ADD COLUMN staff_id UUID REFERENCES staff (id);
ALTER TABLE email_jobs ALTER COLUMN lead_id DROP NOT NULL;
ALTER TABLE email_jobs ALTER COLUMN booking_id DROP NOT NULL;
