-- Scratch databases left by drills, with the comment that holds their expiry.
SELECT d.datname, shobj_description(d.oid, 'pg_database'), pg_get_userbyid(d.datdba)
FROM pg_database d
WHERE d.datname LIKE 'auroractl\_drill\_%%'
ORDER BY d.datname
