-- Parameters the current role may NOT change with ALTER SYSTEM (PostgreSQL 15+).
SELECT array_agg(n ORDER BY n) FILTER (
         WHERE NOT (r.rolsuper OR pg_catalog.has_parameter_privilege(n, 'ALTER SYSTEM')))
FROM unnest(%(names)s::text[]) AS n,
     (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS r
