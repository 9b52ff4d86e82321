-- The ledger of applied migrations (auroractl migrate).
CREATE SCHEMA IF NOT EXISTS auroractl;
CREATE TABLE IF NOT EXISTS auroractl.schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer     NOT NULL,
    applied_by  text        NOT NULL DEFAULT current_user,
    autocommit  boolean     NOT NULL DEFAULT false
);
