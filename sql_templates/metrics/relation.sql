-- Kind, comment and column types of a relation; no row when it does not exist.
SELECT c.relkind::text,
       pg_catalog.obj_description(c.oid, 'pg_class'),
       array_agg(a.attname::text || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                 ORDER BY a.attnum) FILTER (WHERE a.attnum > 0)
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute AS a
       ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = %(schema)s AND c.relname = %(name)s
GROUP BY c.oid, c.relkind
