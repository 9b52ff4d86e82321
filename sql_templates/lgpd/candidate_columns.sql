-- Columns of user tables (not partitions, not auroractl's own or the audit log) with
-- their type, for map --check: names and sampled values that look personal.
SELECT n.nspname::text, c.relname::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod),
       t.typcategory = 'S' OR a.atttypid IN ('json'::regtype, 'jsonb'::regtype) AS textual
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'auroractl', 'audit', 'cron')
  AND n.nspname NOT LIKE 'pg\_temp%%' AND n.nspname NOT LIKE 'pg\_toast%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype = 'e')
ORDER BY n.nspname, c.relname, a.attnum
