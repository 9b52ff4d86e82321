-- The table, its partitioning strategy and key, from the catalog.
SELECT c.oid::int8,
       n.nspname,
       c.relname,
       c.relkind::text,
       pt.partstrat::text,
       pt.partexprs IS NOT NULL AS key_is_expression,
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                 FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum),
                '{}') AS key_columns,
       coalesce((SELECT array_agg(format_type(a.atttypid, NULL) ORDER BY k.ord)
                 FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum),
                '{}') AS key_types,
       current_date
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
WHERE c.oid = %(oid)s
