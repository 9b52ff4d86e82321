-- Every foreign key, folded onto the partitioned parents on both sides: a key declared on
-- each partition, or cloned from the parent onto them, is one edge between the roots.
-- on_partitions: declared on the partitions only, not on the parent.
WITH fk AS (
    SELECT coalesce(pg_partition_root(k.conrelid), k.conrelid) AS src,
           coalesce(pg_partition_root(k.confrelid), k.confrelid) AS dst,
           ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                  ORDER BY u.o) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                   JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                  ORDER BY u.o) AS ref_columns,
           k.conname::text AS name,
           c.relispartition AND k.conparentid = 0 AS on_partition
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    WHERE k.contype = 'f'
)
SELECT sn.nspname::text, s.relname::text, fk.columns,
       dn.nspname::text, d.relname::text, fk.ref_columns,
       min(fk.name), bool_and(fk.on_partition)
FROM fk
JOIN pg_class s ON s.oid = fk.src
JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_class d ON d.oid = fk.dst
JOIN pg_namespace dn ON dn.oid = d.relnamespace
WHERE sn.nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl', 'audit', 'cron')
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 7
