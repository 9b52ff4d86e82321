-- One `migrate up` at a time per database (session-level advisory lock).
SELECT pg_try_advisory_lock(hashtext('auroractl migrate'))
