-- User tables (not partitions) with their primary key columns, auroractl audit triggers and
-- whether they are partitioned.
SELECT n.nspname AS schema,
       c.relname AS name,
       COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM pg_index x
                   CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                  WHERE x.indrelid = c.oid AND x.indisprimary), '{}') AS pk_columns,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum) AS columns,
       COALESCE((SELECT array_agg(t.tgname::text || '=' || COALESCE(obj_description(t.oid, 'pg_trigger'), '')
                                  ORDER BY t.tgname)
                   FROM pg_trigger t
                  WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
                    AND t.tgname LIKE 'auroractl\_audit\_%%'), '{}') AS triggers,
       c.relkind = 'p' AS partitioned
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl', 'audit')
   AND n.nspname NOT LIKE 'pg\_%%'
 ORDER BY n.nspname, c.relname;
