-- One installer at a time; released at commit. A short lock_timeout bounds the wait (for
-- this lock and for the tables' locks), so a writer is never stuck behind a long query.
SELECT pg_advisory_xact_lock(hashtext('auroractl state'))
