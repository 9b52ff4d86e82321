-- History of restore drills: one row per `auroractl restore-test` run.
CREATE SCHEMA IF NOT EXISTS auroractl;
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
