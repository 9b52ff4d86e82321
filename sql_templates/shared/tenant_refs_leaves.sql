-- The leaf partitions of a partitioned table (every level), parents before children.
SELECT n.nspname::text, c.relname::text
FROM pg_partition_tree(to_regclass(%(table)s)) t
JOIN pg_class c ON c.oid = t.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.isleaf AND c.relkind = 'r'
ORDER BY t.level, c.relname
