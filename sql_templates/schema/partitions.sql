-- Every partition below a partitioned table (all levels), parents first.
SELECT t.relid::oid, n.nspname, c.relname, t.level
FROM pg_partition_tree(%(oid)s::oid::regclass) t
JOIN pg_class c ON c.oid = t.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE t.relid <> %(oid)s::oid::regclass
ORDER BY t.level, c.relname
