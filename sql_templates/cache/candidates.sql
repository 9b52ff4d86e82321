-- Read-only statements ranked by the database time a cache in front of them would save.
SELECT s.queryid::text,
       s.calls,
       s.total_exec_time,
       s.mean_exec_time,
       s.rows,
       CASE WHEN s.shared_blks_hit + s.shared_blks_read > 0
            THEN s.shared_blks_hit::float8 / (s.shared_blks_hit + s.shared_blks_read) END
           AS hit_ratio,
       s.query
FROM pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.query ~* '^\s*(select|with)\M'
  AND s.query !~* '\m(insert|update|delete|merge)\M|\mfor\s+(update|share)\M'
  AND s.query !~* '\m(pg_catalog|pg_stat_|information_schema|auroractl)'
ORDER BY s.total_exec_time DESC
LIMIT %(limit)s
