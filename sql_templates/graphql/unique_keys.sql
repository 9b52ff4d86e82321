-- The UNIQUE and primary keys of the given tables ("schema.table") and their columns.
SELECT n.nspname || '.' || c.relname,
       k.conname,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) u (attnum)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE k.contype IN ('u', 'p')
  AND n.nspname || '.' || c.relname = ANY (%(tables)s)
ORDER BY 1, 2
