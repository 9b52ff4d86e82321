-- Materialized views with population, size, unique-index readiness and last refresh.
SELECT m.schemaname || '.' || m.matviewname AS name,
       m.schemaname,
       m.matviewname,
       m.ispopulated,
       pg_total_relation_size(c.oid) AS bytes,
       greatest(c.reltuples, 0)::int8 AS rows_estimate,
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid
                 AND i.indpred IS NULL AND i.indexprs IS NULL) AS has_unique_index
FROM pg_matviews m
JOIN pg_namespace n ON n.nspname = m.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.matviewname
WHERE m.schemaname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1
