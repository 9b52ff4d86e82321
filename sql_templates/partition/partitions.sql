-- Direct partitions of a parent with their bounds and sizes.
SELECT n.nspname,
       c.relname,
       pg_get_expr(c.relpartbound, c.oid) AS bound,
       greatest(c.reltuples, 0)::int8 AS rows_estimate,
       pg_total_relation_size(c.oid) AS bytes,
       i.inhdetachpending,
       c.oid::int8
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = %(oid)s
ORDER BY c.relname
