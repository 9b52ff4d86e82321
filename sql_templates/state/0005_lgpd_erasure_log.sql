-- lgpd forget appends each erasure to a log kept outside the database ([lgpd] erasure_log)
-- and lgpd reapply replays it after a restore: the receipt keeps the salted hashes of the
-- subject's identifiers (useless without the log's salt) so that a re-run can write a
-- missing log entry, and says when it was re-applied from the log.
ALTER TABLE auroractl.lgpd_requests
    ADD COLUMN IF NOT EXISTS identifiers jsonb,
    ADD COLUMN IF NOT EXISTS reapplied_at timestamptz;
