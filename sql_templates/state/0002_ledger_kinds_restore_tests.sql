-- The ledger records every kind of change (sql, job, aws) with the rows it touched and,
-- for AWS, the resource ids and region. IF NOT EXISTS: a database written by a build
-- that added these columns on demand already has them.
ALTER TABLE auroractl.operations
    ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'sql',
    ADD COLUMN IF NOT EXISTS rows bigint,
    ADD COLUMN IF NOT EXISTS resources text[],
    ADD COLUMN IF NOT EXISTS region text;

-- The feature is called restore-test everywhere: its history table too, rows kept.
ALTER TABLE auroractl.drills RENAME TO restore_tests;
ALTER TABLE auroractl.restore_tests RENAME CONSTRAINT drills_outcome_check
    TO restore_tests_outcome_check;
ALTER INDEX auroractl.drills_pkey RENAME TO restore_tests_pkey;
ALTER SEQUENCE auroractl.drills_id_seq RENAME TO restore_tests_id_seq;
