-- Top-level partitioned tables with their partitions, and rows sitting in a DEFAULT partition
-- (counted server-side, capped, so the whole check stays one round trip).
SELECT c.oid::int8 AS oid,
       n.nspname,
       c.relname,
       pt.partstrat,
       pt.partnatts,
       a.attname AS key,
       format_type(a.atttypid, NULL) AS key_type,
       coalesce(json_agg(json_build_array(pn.nspname, p.relname,
                                          pg_get_expr(p.relpartbound, p.oid),
                                          greatest(p.reltuples, 0)::int8, 0,
                                          i.inhdetachpending)
                         ORDER BY p.relname) FILTER (WHERE p.oid IS NOT NULL), '[]')
           AS partitions,
       max(CASE WHEN pg_get_expr(p.relpartbound, p.oid) = 'DEFAULT'
                THEN (xpath('/row/n/text()',
                            query_to_xml(format('SELECT count(*) AS n FROM '
                                                '(SELECT FROM ONLY %%I.%%I LIMIT %%s) s',
                                                pn.nspname, p.relname, %(cap)s::int8),
                                         false, true, '')))[1]::text::int8
           END) AS default_rows
  FROM pg_partitioned_table pt
  JOIN pg_class c ON c.oid = pt.partrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
  LEFT JOIN pg_inherits i ON i.inhparent = c.oid
  LEFT JOIN pg_class p ON p.oid = i.inhrelid
  LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
 WHERE NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 GROUP BY c.oid, n.nspname, c.relname, pt.partstrat, pt.partnatts, a.attname, a.atttypid
 ORDER BY n.nspname, c.relname
