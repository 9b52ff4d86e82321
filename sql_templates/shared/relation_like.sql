-- Relations whose name matches case-insensitively (for a "needs double quotes" hint);
-- double quotes given in the wrong case are ignored.
SELECT n.nspname, c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (SELECT lower(replace(%(name)s, '"', '')) AS wanted) AS w
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (lower(c.relname) = w.wanted OR lower(n.nspname || '.' || c.relname) = w.wanted)
ORDER BY 1, 2
LIMIT 3
