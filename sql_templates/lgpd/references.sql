-- Single-column foreign keys pointing at the subject table (declared on the parent only:
-- partitions' clones have conparentid <> 0), with the referencing table and column.
SELECT con.conrelid::int8, n.nspname::text, c.relname::text, a.attname::text,
       a.attnotnull, con.confdeltype::text, con.conname::text,
       cardinality(con.conkey) AS width
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
WHERE con.contype = 'f' AND con.confrelid = %(oid)s AND con.conparentid = 0
ORDER BY n.nspname, c.relname, a.attname
