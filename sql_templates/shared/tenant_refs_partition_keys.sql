-- The partition key columns of a partitioned table and of its partitioned partitions;
-- NULL for an expression (no unique key can contain it).
SELECT DISTINCT a.attname::text
FROM pg_partition_tree(to_regclass(%(table)s)) t
JOIN pg_partitioned_table p ON p.partrelid = t.relid
CROSS JOIN LATERAL unnest(p.partattrs::int2[]) k(n)
LEFT JOIN pg_attribute a ON a.attrelid = t.relid AND a.attnum = k.n AND k.n <> 0
