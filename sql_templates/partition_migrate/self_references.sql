-- The table's foreign keys onto itself.
SELECT con.conname::text
FROM pg_constraint con
WHERE con.contype = 'f' AND con.conrelid = %(oid)s AND con.confrelid = %(oid)s
ORDER BY 1
