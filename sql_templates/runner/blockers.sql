-- A session (not us) holding a granted lock on one of the given relations or on one
-- of their partitions, oldest transaction first.
SELECT a.pid, coalesce(a.state, 'unknown'), a.query
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted
  AND l.pid <> pg_backend_pid()
  AND l.relation IN (
      SELECT to_regclass(r)::oid FROM unnest(%s::text[]) AS r
      UNION ALL
      SELECT i.inhrelid FROM pg_inherits i
      WHERE i.inhparent IN (SELECT to_regclass(r)::oid FROM unnest(%s::text[]) AS r))
ORDER BY a.xact_start NULLS LAST
LIMIT 1
