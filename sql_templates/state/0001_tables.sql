-- auroractl's own tables as they were before they were versioned, each created on demand
-- by its feature: IF NOT EXISTS keeps a database that has some of them, with their rows,
-- and makes it version 1. The schema is created only when absent (CREATE SCHEMA IF NOT
-- EXISTS needs CREATE on the database even when the schema exists).
DO $$
BEGIN
    IF to_regnamespace('auroractl') IS NULL THEN
        CREATE SCHEMA auroractl;
    END IF;
END
$$;

-- The installed versions of this series.
CREATE TABLE IF NOT EXISTS auroractl.state_version (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer     NOT NULL,
    applied_by  text        NOT NULL DEFAULT current_user,
    autocommit  boolean     NOT NULL DEFAULT false
);

-- The ledger of applied changes: one row per `runner.apply`.
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

-- The ledger of applied migrations (auroractl migrate).
CREATE TABLE IF NOT EXISTS auroractl.schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer     NOT NULL,
    applied_by  text        NOT NULL DEFAULT current_user,
    autocommit  boolean     NOT NULL DEFAULT false
);

-- What `schema split apply` changed, so that `revert` undoes exactly that.
CREATE TABLE IF NOT EXISTS auroractl.schema_split (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('schema', 'grant', 'search_path', 'table')),
    schema_name text        NOT NULL,   -- the domain schema
    object      text,                   -- table or role
    from_schema text,                   -- table: where it was
    previous    text[],                 -- search_path: the role's previous setting here
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text        NOT NULL DEFAULT current_user
);

-- History of restore tests: one row per `auroractl restore-test` run (renamed in 0002).
CREATE TABLE IF NOT EXISTS auroractl.drills (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    backend      text        NOT NULL,
    source       text        NOT NULL,
    restored     text,
    outcome      text        NOT NULL CHECK (outcome IN ('passed', 'failed', 'error')),
    rto_s        double precision,
    rpo_s        double precision,
    checks_failed integer    NOT NULL DEFAULT 0,
    error        text,
    db_user      text        NOT NULL DEFAULT current_user,
    os_user      text,
    client_host  text,
    report       jsonb
);

-- One row per refresh auroractl ran (the ledger has the plan; this has the figures).
CREATE TABLE IF NOT EXISTS auroractl.matview_refreshes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matview       text        NOT NULL,
    started_at    timestamptz NOT NULL,
    duration_ms   integer     NOT NULL,
    row_count     bigint      NOT NULL,
    concurrent    boolean     NOT NULL
);
CREATE INDEX IF NOT EXISTS matview_refreshes_matview_idx
    ON auroractl.matview_refreshes (matview, started_at DESC);

-- Online partition migrations (one row per table) and the fill's key ranges with their
-- committed watermarks (resumable after kill -9).
CREATE TABLE IF NOT EXISTS auroractl.migrations_partition (
    schema_name   text        NOT NULL,
    table_name    text        NOT NULL,
    twin_name     text        NOT NULL,
    retired_name  text        NOT NULL,
    strategy      text        NOT NULL CHECK (strategy IN ('range', 'list', 'hash')),
    by_period            text        NOT NULL,
    key_column    text        NOT NULL,
    pk            text[]      NOT NULL,
    twin_pk       text[]      NOT NULL,
    columns       text[]      NOT NULL,
    phase         text        NOT NULL DEFAULT 'prepped'
                              CHECK (phase IN ('prepped', 'swapped', 'done')),
    rls_forced    boolean     NOT NULL DEFAULT false,
    fill_done     boolean     NOT NULL DEFAULT false,
    copied        bigint      NOT NULL DEFAULT 0,
    verified_ok   boolean,
    verified_phase text,
    verified_at   timestamptz,
    matviews      jsonb       NOT NULL DEFAULT '[]',  -- definitions captured at swap
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, table_name)
);
CREATE TABLE IF NOT EXISTS auroractl.migrations_partition_chunks (
    schema_name text    NOT NULL,
    table_name  text    NOT NULL,
    chunk       integer NOT NULL,
    lower_key   text[],
    upper_key   text[],
    watermark   text[],
    done        boolean NOT NULL DEFAULT false,
    copied      bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (schema_name, table_name, chunk),
    FOREIGN KEY (schema_name, table_name)
        REFERENCES auroractl.migrations_partition ON DELETE CASCADE
);

-- Receipts of LGPD requests (Art. 18 erasure / access). No personal data: the subject is
-- named by its primary key only, and errors by their SQLSTATE class only.
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
