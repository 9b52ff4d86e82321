-- partition migrate cleanup moves the foreign keys of other tables onto the new table
-- (NOT VALID, or constraint triggers) and validates them afterwards: what it moved and
-- which are validated, so that an interrupted validation resumes.
ALTER TABLE auroractl.migrations_partition
    ADD COLUMN IF NOT EXISTS fk_moves jsonb NOT NULL DEFAULT '[]';
