-- Relations whose name matches case-insensitively (for a "needs double quotes" hint).
SELECT n.nspname, c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (lower(c.relname) = lower(%(name)s)
       OR lower(n.nspname || '.' || c.relname) = lower(%(name)s))
ORDER BY 1, 2
LIMIT 3
