-- A table's own foreign keys (not ones inherited from a parent), deparsed.
SELECT con.conname::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
WHERE con.conrelid = %(oid)s AND con.contype = 'f' AND con.conparentid = 0
ORDER BY con.conname
