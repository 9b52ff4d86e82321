-- Top-level RANGE-partitioned tables keyed on one date/timestamp column.
SELECT n.nspname, c.relname
FROM pg_partitioned_table pt
JOIN pg_class c ON c.oid = pt.partrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
WHERE pt.partstrat = 'r'
  AND pt.partnatts = 1
  AND NOT c.relispartition
  AND format_type(a.atttypid, NULL) = ANY (%(types)s)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
