-- Sessions holding a granted lock on any of the given relations (other than us).
SELECT a.pid, coalesce(a.state, 'unknown'), a.query
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted
  AND l.pid <> pg_backend_pid()
  AND l.relation = ANY (SELECT to_regclass(r)::oid FROM unnest(%s::text[]) AS r)
ORDER BY a.xact_start NULLS LAST
LIMIT 1
