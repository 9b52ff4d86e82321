-- Transaction ID age per database, the oldest tables, and tables with many dead tuples.
SELECT (SELECT coalesce(json_agg(d ORDER BY d.xid_age DESC), '[]')
          FROM (SELECT datname AS database,
                       age(datfrozenxid)::int8 AS xid_age,
                       mxid_age(datminmxid)::int8 AS mxid_age
                  FROM pg_database) d) AS databases,
       (SELECT coalesce(json_agg(o ORDER BY o.xid_age DESC), '[]')
          FROM (SELECT n.nspname || '.' || c.relname AS "table",
                       age(c.relfrozenxid)::int8 AS xid_age
                  FROM pg_class c
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm', 't')
                 ORDER BY age(c.relfrozenxid) DESC
                 LIMIT 5) o) AS oldest_tables,
       (SELECT coalesce(json_agg(t ORDER BY t.dead_tuples DESC), '[]')
          FROM (SELECT schemaname || '.' || relname AS "table",
                       n_live_tup AS live_tuples,
                       n_dead_tup AS dead_tuples,
                       round(100.0 * n_dead_tup / greatest(n_live_tup + n_dead_tup, 1), 1)
                           AS dead_pct,
                       last_vacuum,
                       last_autovacuum,
                       last_autoanalyze
                  FROM pg_stat_user_tables
                 WHERE n_dead_tup >= %(dead_min)s
                   AND 100.0 * n_dead_tup / greatest(n_live_tup + n_dead_tup, 1) >= %(dead_pct)s
                 ORDER BY n_dead_tup DESC
                 LIMIT 50) t) AS dead
