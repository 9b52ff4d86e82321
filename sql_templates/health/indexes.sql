-- Unused, duplicate and invalid indexes, and foreign keys no index supports.
WITH idx AS MATERIALIZED (
    SELECT i.indexrelid,
           i.indrelid,
           i.indisunique,
           i.indisprimary,
           i.indisvalid,
           c.relam,
           c.relispartition,
           c.relkind,
           (string_to_array(i.indkey::text, ' ')::int2[])[1:i.indnkeyatts] AS keys,
           (string_to_array(i.indclass::text, ' ')::oid[])[1:i.indnkeyatts] AS classes,
           pg_get_expr(i.indexprs, i.indrelid) AS exprs,
           pg_get_expr(i.indpred, i.indrelid) AS pred,
           n.nspname || '.' || c.relname AS index_name,
           tn.nspname || '.' || t.relname AS table_name
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace tn ON tn.oid = t.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_toast'
), unused AS (
    -- Sized by pg_class.relpages (set by CREATE INDEX, VACUUM, ANALYZE): no index is opened.
    SELECT x.indexrelid, x.index_name, x.table_name, s.idx_scan,
           c.relpages::int8 * current_setting('block_size')::int8 AS estimated_bytes
      FROM idx x
      JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
      JOIN pg_class c ON c.oid = x.indexrelid
     WHERE s.idx_scan = 0
       AND NOT x.indisunique
       AND NOT x.indisprimary
       AND x.indisvalid
       AND c.relpages::int8 * current_setting('block_size')::int8 >= %(unused_min_bytes)s
), dup AS (
    SELECT a.index_name, a.table_name, b.index_name AS covered_by,
           pg_relation_size(a.indexrelid) AS bytes
      FROM idx a
      JOIN idx b
        ON b.indrelid = a.indrelid
       AND b.indexrelid <> a.indexrelid
       AND b.relam = a.relam
       AND b.indisvalid
       AND NOT a.relispartition
       AND NOT b.relispartition
       AND a.exprs IS NOT DISTINCT FROM b.exprs
       AND a.pred IS NOT DISTINCT FROM b.pred
       AND b.keys[1:cardinality(a.keys)] = a.keys
       AND b.classes[1:cardinality(a.keys)] = a.classes
     WHERE NOT a.indisprimary
       AND (
            -- a strict prefix of a btree index, and a does not enforce uniqueness
            (cardinality(b.keys) > cardinality(a.keys) AND NOT a.indisunique
             AND a.relam = (SELECT oid FROM pg_am WHERE amname = 'btree'))
            -- identical: keep the constraint / unique / older one, report the other
         OR (cardinality(b.keys) = cardinality(a.keys)
             AND (b.indisprimary
                  OR (b.indisunique AND NOT a.indisunique)
                  OR (b.indisunique = a.indisunique AND b.indexrelid < a.indexrelid)))
       )
), invalid AS (
    SELECT x.index_name, x.table_name, x.relkind = 'I' AS partitioned
      FROM idx x
     WHERE NOT x.indisvalid
), fk AS (
    SELECT n.nspname || '.' || t.relname AS table_name,
           con.conname AS constraint_name,
           (SELECT string_agg(a.attname, ', ' ORDER BY k.ord)
              FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)
               AS columns,
           con.confrelid::regclass::text AS referenced
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE con.contype = 'f'
       AND con.conparentid = 0
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND NOT EXISTS (
           SELECT 1
             FROM idx x
            WHERE x.indrelid = con.conrelid
              AND x.pred IS NULL
              AND cardinality(x.keys) >= cardinality(con.conkey)
              AND x.keys[1:cardinality(con.conkey)] @> con.conkey
              AND x.keys[1:cardinality(con.conkey)] <@ con.conkey)
)
SELECT (SELECT count(*) FROM idx)::int AS indexes,
       (SELECT count(*) FROM unused)::int AS unused_count,
       (SELECT coalesce(json_agg(u ORDER BY u.bytes DESC, u.index_name), '[]')
          FROM (SELECT index_name, table_name, idx_scan,
                       pg_relation_size(indexrelid) AS bytes
                  FROM unused
                 ORDER BY estimated_bytes DESC, index_name
                 LIMIT 100) u) AS unused,
       (SELECT coalesce(json_agg(d ORDER BY d.index_name), '[]') FROM dup d) AS duplicate,
       (SELECT coalesce(json_agg(v ORDER BY v.index_name), '[]') FROM invalid v) AS invalid,
       (SELECT coalesce(json_agg(f ORDER BY f.table_name, f.constraint_name), '[]') FROM fk f)
           AS fk_without_index,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database())
           AS stats_reset
