-- Tables (not partitions) with these names in these schemas.
SELECT c.oid, n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = ANY(%(names)s)
  AND n.nspname = ANY(%(schemas)s)
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND NOT c.relispartition
