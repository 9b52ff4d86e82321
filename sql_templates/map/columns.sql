-- Every column of the user's tables (partitioned parents, not their partitions) with what
-- classifying it and choosing its erasure rule need: one query for the whole database.
WITH t AS (
    SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name,
           obj_description(c.oid, 'pg_class') AS comment,
           has_table_privilege(c.oid, 'SELECT') AS readable
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl', 'audit', 'cron')
      AND n.nspname !~ '^pg_(temp|toast)'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                         AND d.deptype = 'e')
), pk AS (
    SELECT x.indrelid AS oid,
           array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_index x
    CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE x.indisprimary AND x.indrelid IN (SELECT oid FROM t)
    GROUP BY x.indrelid
)
SELECT t.schema, t.name, a.attname::text, a.attnum::int,
       format_type(a.atttypid, NULL),
       CASE WHEN a.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND a.atttypmod > 4
            THEN a.atttypmod - 4 END,
       a.attnotnull, a.atthasdef,
       ty.typcategory = 'S' AND t.readable,  -- worth sampling (and we may read it)
       EXISTS (SELECT 1 FROM pg_index x
                WHERE x.indrelid = t.oid AND x.indisunique AND x.indnkeyatts = 1
                  AND x.indkey[0] = a.attnum AND x.indpred IS NULL),
       EXISTS (SELECT 1 FROM pg_constraint k
                WHERE k.conrelid = t.oid AND k.contype = 'c' AND a.attnum = ANY (k.conkey)),
       EXISTS (SELECT 1 FROM pg_trigger g
                WHERE g.tgrelid = t.oid AND g.tgname = left('auroractl_encrypt_' || a.attname, 63)),
       col_description(t.oid, a.attnum), t.comment,
       coalesce(pk.columns, '{}')
FROM t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pk ON pk.oid = t.oid
ORDER BY t.schema, t.name, a.attnum
