-- One row per refresh auroractl ran (the ledger has the plan; this has the figures).
CREATE SCHEMA IF NOT EXISTS auroractl;
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
