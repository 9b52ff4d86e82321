-- The single-column CHECK constraints of the user's tables (on the parent for partitions),
-- with their expression, for testing the values an erasure rule would write.
SELECT n.nspname::text, c.relname::text, a.attname::text, k.conname::text,
       pg_get_expr(k.conbin, k.conrelid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
WHERE k.contype = 'c' AND cardinality(k.conkey) = 1 AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl', 'audit', 'cron')
ORDER BY 1, 2, 3, 4
