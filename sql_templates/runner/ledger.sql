-- The ledger of applied plans: one row per `runner.apply`.
CREATE SCHEMA IF NOT EXISTS auroractl;
CREATE TABLE IF NOT EXISTS auroractl.operations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms  integer     NOT NULL,
    db_user      text        NOT NULL DEFAULT current_user,
    os_user      text,
    client_host  text,
    command      text        NOT NULL,
    summary      text        NOT NULL,
    sql_sha256   text        NOT NULL,
    statements   integer     NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('applied', 'failed')),
    error        text,
    version      text
);
ALTER TABLE auroractl.operations
    ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'sql',
    ADD COLUMN IF NOT EXISTS rows bigint,
    ADD COLUMN IF NOT EXISTS resources text[],
    ADD COLUMN IF NOT EXISTS region text;
