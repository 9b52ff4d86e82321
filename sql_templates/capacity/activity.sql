-- Client sessions other than this one active in the last hour, by application_name:
-- any of them keeps the instance from pausing (pg_stat_activity shows live sessions only).
SELECT coalesce(nullif(application_name, ''), '(none)') AS application,
       count(*) AS sessions,
       max(greatest(backend_start, state_change, query_start)) AS last_active
FROM pg_catalog.pg_stat_activity
WHERE backend_type = 'client backend'
  AND pid <> pg_catalog.pg_backend_pid()
  AND greatest(backend_start, state_change, query_start) >= now() - interval '1 hour'
GROUP BY 1
ORDER BY sessions DESC, application
