-- Scratch databases left by restore tests (patterns: LIKE patterns of their name
-- prefixes, today's and earlier ones), with the comment that holds their expiry.
SELECT d.datname, shobj_description(d.oid, 'pg_database'), pg_get_userbyid(d.datdba)
FROM pg_database d
WHERE d.datname LIKE ANY (%(patterns)s)
ORDER BY d.datname
