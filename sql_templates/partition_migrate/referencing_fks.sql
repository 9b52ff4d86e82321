-- Foreign keys of other tables pointing at the table: declared on a table, on a
-- partitioned table (its partitions' clones are listed as its leaves), or on a partition
-- itself. Columns in key order; actions, match type and deferrability as the catalog has them.
SELECT n.nspname::text, c.relname::text, con.conname::text, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       con.confupdtype::text, con.confdeltype::text, con.confmatchtype::text,
       con.condeferrable, con.condeferred, con.convalidated, c.relkind::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.confdelsetcols) AS k(attnum)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
       ARRAY(WITH RECURSIVE clone AS (
                 SELECT lc.oid, lc.conrelid, lc.conname FROM pg_constraint lc
                 WHERE lc.conparentid = con.oid
                 UNION ALL
                 SELECT lc.oid, lc.conrelid, lc.conname FROM pg_constraint lc
                 JOIN clone ON lc.conparentid = clone.oid)
             SELECT ARRAY[ln.nspname::text, l.relname::text, clone.conname::text]
             FROM clone
             JOIN pg_class l ON l.oid = clone.conrelid
             JOIN pg_namespace ln ON ln.oid = l.relnamespace
             WHERE l.relkind = 'r'
             ORDER BY 1)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f' AND con.confrelid = %(oid)s AND con.conparentid = 0
  AND con.conrelid <> %(oid)s
ORDER BY 1, 2, 3
