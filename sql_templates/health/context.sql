-- Health prelude: database, clock, the settings every section needs, pg_stat_statements.
SELECT current_database() AS database,
       now() AS checked_at,
       (now() AT TIME ZONE 'UTC')::date AS today,
       current_setting('server_version') AS server_version,
       pg_backend_pid() AS own_pid,
       (SELECT json_object_agg(name, setting)
          FROM pg_settings
         WHERE name = ANY (%(settings)s)) AS settings,
       (SELECT n.nspname
          FROM pg_extension e
          JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements') AS pgss_schema
