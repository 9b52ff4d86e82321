-- Database size, largest tables and indexes, and estimated table bloat (from pg_stats widths).
WITH rel AS MATERIALIZED (
    SELECT c.oid, c.relkind, c.relpages, c.reltuples,
           n.nspname, c.relname,
           n.nspname || '.' || c.relname AS name,
           coalesce((SELECT (regexp_match(o, '^fillfactor=(\d+)$'))[1]::int
                       FROM unnest(c.reloptions) o
                      WHERE o LIKE 'fillfactor=%%'), 100) AS fillfactor
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'm', 'i')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_toast'
), widths AS (
    SELECT schemaname, tablename,
           sum((1 - null_frac) * avg_width) AS width,
           max(null_frac) > 0 AS has_nulls,
           count(*) AS columns
      FROM pg_stats
     WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
     GROUP BY 1, 2
), est AS (
    SELECT r.name,
           r.relpages::int8 * current_setting('block_size')::int8 AS bytes,
           ceil(r.reltuples
                * (24 + CASE WHEN w.has_nulls THEN 8 ELSE 0 END + 8 * ceil(w.width / 8) + 4)
                / ((current_setting('block_size')::int - 24) * r.fillfactor / 100.0))::int8
               AS expected_pages,
           r.relpages
      FROM rel r
      JOIN widths w ON w.schemaname = r.nspname AND w.tablename = r.relname
     WHERE r.relkind IN ('r', 'm')
       AND r.relpages > 0
       AND r.reltuples > 0
), bloat AS (
    SELECT name, bytes,
           (relpages - expected_pages) * current_setting('block_size')::int8 AS bloat_bytes,
           round(100.0 * (relpages - expected_pages) / relpages, 1) AS bloat_pct
      FROM est
     WHERE relpages > expected_pages
)
-- Candidates are ranked by pg_class.relpages (no relation is opened: cheap on catalogs
-- with thousands of tables); exact sizes are taken for the top candidates only.
SELECT pg_database_size(current_database()) AS database_bytes,
       (SELECT coalesce(json_agg(t ORDER BY t.bytes DESC, t.name), '[]')
          FROM (SELECT name, pg_total_relation_size(oid) AS bytes
                  FROM (SELECT r.oid, r.name
                          FROM rel r
                          LEFT JOIN pg_class toast
                            ON toast.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = r.oid)
                         WHERE r.relkind IN ('r', 'm')
                         ORDER BY r.relpages + coalesce(toast.relpages, 0)
                                  + coalesce((SELECT sum(ic.relpages)
                                                FROM pg_index i
                                                JOIN pg_class ic ON ic.oid = i.indexrelid
                                               WHERE i.indrelid = r.oid), 0) DESC
                         LIMIT 5 * %(top)s) candidates
                 ORDER BY 2 DESC, name
                 LIMIT %(top)s) t) AS largest_tables,
       (SELECT coalesce(json_agg(t ORDER BY t.bytes DESC, t.name), '[]')
          FROM (SELECT name, pg_relation_size(oid) AS bytes
                  FROM (SELECT oid, name FROM rel WHERE relkind = 'i'
                         ORDER BY relpages DESC LIMIT 5 * %(top)s) candidates
                 ORDER BY 2 DESC, name
                 LIMIT %(top)s) t) AS largest_indexes,
       (SELECT coalesce(json_agg(b ORDER BY b.bloat_bytes DESC), '[]')
          FROM (SELECT * FROM bloat
                 WHERE bloat_bytes >= %(bloat_min_bytes)s AND bloat_pct >= %(bloat_pct)s
                 ORDER BY bloat_bytes DESC
                 LIMIT 50) b) AS bloated
