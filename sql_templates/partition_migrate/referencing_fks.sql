-- Foreign keys of other tables pointing at the table.
SELECT n.nspname::text, c.relname::text, con.conname::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f' AND con.confrelid = %(oid)s AND con.conparentid = 0
ORDER BY 1, 2, 3
