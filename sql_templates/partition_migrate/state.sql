-- auroractl's record of online partition migrations (one row per table) and of the
-- fill's key ranges with their committed watermarks (resumable after kill -9).
CREATE SCHEMA IF NOT EXISTS auroractl;
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
