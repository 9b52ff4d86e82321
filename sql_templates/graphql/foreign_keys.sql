-- Foreign keys between exposed tables, with the indexes PostGraphile 5 looks for: the
-- backward relation field (parent -> children) exists only when a non-partial index on
-- the referencing table contains every key column (plain tables; partitioned parents,
-- views and others get the benefit of the doubt). A lookup is fast only when an index
-- leads with the key columns.
SELECT n.nspname || '.' || c.relname AS label,
       fk.conname,
       ARRAY(SELECT a.attname::text FROM unnest(fk.conkey) WITH ORDINALITY k (attnum, i)
             JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS columns,
       rn.nspname || '.' || r.relname AS references_label,
       c.relkind NOT IN ('r', 'm', 'f') OR EXISTS (
           SELECT 1 FROM pg_index i
           WHERE i.indrelid = c.oid AND i.indpred IS NULL
             AND fk.conkey <@ (i.indkey::int2[])[0:i.indnkeyatts - 1]) AS relation_served,
       EXISTS (
           SELECT 1 FROM pg_index i
           WHERE i.indrelid = c.oid AND i.indpred IS NULL
             AND (i.indkey::int2[])[0:cardinality(fk.conkey) - 1] @> fk.conkey
             AND (i.indkey::int2[])[0:cardinality(fk.conkey) - 1] <@ fk.conkey) AS leading_index
FROM pg_constraint fk
JOIN pg_class c ON c.oid = fk.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class r ON r.oid = fk.confrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE fk.contype = 'f'
  AND fk.conparentid = 0
  AND n.nspname = ANY (%(schemas)s)
  AND rn.nspname = ANY (%(schemas)s)
ORDER BY 1, 2
