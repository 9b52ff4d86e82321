-- Foreign keys between two tables that both have the tenant column %(column)s, whose
-- column pairs do not match the referencing tenant column with the referenced one: such a
-- key lets a row point at another tenant's row (foreign-key checks bypass row security).
-- Declared keys only (conparentid = 0): a partitioned table's per-partition clones are its
-- parent's key. A key that a validated companion on the same tables covers (the same
-- pairs plus the tenant pair) is not reported: that companion already keeps it in-tenant.
WITH fk AS (
    SELECT con.*
    FROM pg_constraint con
    JOIN pg_class r ON r.oid = con.conrelid
    JOIN pg_namespace rn ON rn.oid = r.relnamespace
    WHERE con.contype = 'f' AND con.conparentid = 0
      AND rn.nspname NOT IN ('pg_catalog', 'information_schema')
      AND rn.nspname NOT LIKE 'pg\_toast%%'
)
SELECT fk.conname::text,
       rn.nspname::text, r.relname::text, r.relkind = 'p',
       ARRAY(SELECT a.attname::text FROM unnest(fk.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.n ORDER BY k.i),
       fn.nspname::text, f.relname::text, f.relkind = 'p',
       ARRAY(SELECT a.attname::text FROM unnest(fk.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = fk.confrelid AND a.attnum = k.n ORDER BY k.i),
       fk.confdeltype::text, fk.confupdtype::text,
       ARRAY(SELECT a.attname::text FROM unnest(fk.confdelsetcols) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.n ORDER BY k.i),
       fk.confmatchtype::text, fk.condeferrable, fk.condeferred, fk.convalidated,
       ra.attnotnull
FROM fk
JOIN pg_class r ON r.oid = fk.conrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
JOIN pg_class f ON f.oid = fk.confrelid
JOIN pg_namespace fn ON fn.oid = f.relnamespace
JOIN pg_attribute ra
  ON ra.attrelid = fk.conrelid AND ra.attname = %(column)s AND NOT ra.attisdropped
JOIN pg_attribute fa
  ON fa.attrelid = fk.confrelid AND fa.attname = %(column)s AND NOT fa.attisdropped
WHERE NOT EXISTS (
        SELECT 1 FROM unnest(fk.conkey, fk.confkey) p(a, b)
        WHERE p.a = ra.attnum AND p.b = fa.attnum)
  AND NOT EXISTS (
        SELECT 1 FROM pg_constraint g
        WHERE g.contype = 'f' AND g.convalidated
          AND g.conrelid = fk.conrelid AND g.confrelid = fk.confrelid
          AND (ra.attnum, fa.attnum) IN (SELECT * FROM unnest(g.conkey, g.confkey))
          AND NOT EXISTS (
                SELECT * FROM unnest(fk.conkey, fk.confkey)
                EXCEPT SELECT * FROM unnest(g.conkey, g.confkey)))
ORDER BY rn.nspname, r.relname, fk.conname
