-- Receipts of LGPD requests (Art. 18 erasure / access). No personal data: the subject is
-- named by its primary key only, and errors by their SQLSTATE class only.
CREATE SCHEMA IF NOT EXISTS auroractl;
CREATE TABLE IF NOT EXISTS auroractl.lgpd_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id     uuid        NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    kind           text        NOT NULL CHECK (kind IN ('erasure', 'access')),
    subject_table  text        NOT NULL,
    subject_id     text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('open', 'completed', 'failed')),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    due_at         timestamptz NOT NULL,
    completed_at   timestamptz,
    operator       text        NOT NULL,
    tables         jsonb       NOT NULL DEFAULT '{}',
    legal_holds    jsonb       NOT NULL DEFAULT '[]',
    error          text
);
CREATE INDEX IF NOT EXISTS lgpd_requests_subject_idx
    ON auroractl.lgpd_requests (subject_table, subject_id);
