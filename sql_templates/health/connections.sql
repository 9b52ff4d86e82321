-- Client sessions by state and application, and sessions idle in a transaction too long.
WITH a AS (
    SELECT pid, usename, datname, application_name, state, state_change, query
      FROM pg_stat_activity
     WHERE backend_type = 'client backend'
)
SELECT (SELECT count(*) FROM a)::int AS total,
       (SELECT coalesce(json_agg(g ORDER BY g.sessions DESC, g.state, g.application), '[]')
          FROM (SELECT coalesce(state, 'unknown') AS state,
                       coalesce(nullif(application_name, ''), '(none)') AS application,
                       count(*)::int AS sessions
                  FROM a
                 GROUP BY 1, 2) g) AS by_state,
       (SELECT coalesce(json_agg(i ORDER BY i.seconds DESC), '[]')
          FROM (SELECT pid,
                       usename AS "user",
                       datname AS database,
                       application_name AS application,
                       state,
                       round(extract(epoch FROM now() - state_change)::numeric, 1) AS seconds,
                       left(regexp_replace(query, '\s+', ' ', 'g'), %(query_chars)s) AS query
                  FROM a
                 WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
                   AND now() - state_change >= make_interval(secs => %(idle_seconds)s)
                 ORDER BY state_change
                 LIMIT 100) i) AS idle_in_transaction
