-- Planner's row estimate of a table or of all partitions of a partitioned one.
SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::int8
FROM pg_class c
WHERE c.oid = %(oid)s
   OR c.oid IN (SELECT relid FROM pg_partition_tree(%(oid)s) WHERE isleaf)
