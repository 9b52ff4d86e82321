-- Long queries, long transactions, and every session in a blocking chain.
WITH a AS MATERIALIZED (
    SELECT pid, backend_type, usename, datname, application_name, state,
           wait_event_type, wait_event, query_start, xact_start, state_change, query,
           CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid)
                ELSE '{}'::int[] END AS blocked_by
      FROM pg_stat_activity
     WHERE pid <> pg_backend_pid()
)
SELECT pid,
       backend_type,
       usename,
       datname,
       application_name,
       state,
       wait_event_type,
       wait_event,
       extract(epoch FROM now() - query_start)::float8 AS query_seconds,
       extract(epoch FROM now() - xact_start)::float8 AS xact_seconds,
       left(regexp_replace(query, '\s+', ' ', 'g'), %(query_chars)s) AS query,
       blocked_by
  FROM a
 WHERE cardinality(blocked_by) > 0
    OR pid IN (SELECT unnest(blocked_by) FROM a)
    OR (backend_type = 'client backend' AND state = 'active'
        AND now() - query_start >= make_interval(secs => %(long_query_seconds)s))
    OR (backend_type = 'client backend'
        AND now() - xact_start >= make_interval(secs => %(long_transaction_seconds)s))
 ORDER BY xact_start NULLS LAST, pid
 LIMIT 500
