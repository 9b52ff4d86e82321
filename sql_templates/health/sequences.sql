-- Sequences by share of their range used, each measured against every column it feeds
-- and that column's integer type. A column is fed by an identity or OWNED BY sequence
-- (pg_depend from the sequence to the column, deptype i / a) or by DEFAULT nextval(...)
-- (pg_depend from the column's pg_attrdef to the sequence): a sequence that no column
-- owns is bounded all the same. Partitions' copies of their parent's default are left
-- out: the parent's column is the one measured.
WITH feeds AS (
    SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS attnum
      FROM pg_depend d
     WHERE d.classid = 'pg_class'::regclass
       AND d.refclassid = 'pg_class'::regclass
       AND d.deptype IN ('a', 'i')
       AND d.refobjsubid > 0
    UNION
    SELECT d.refobjid, ad.adrelid, ad.adnum
      FROM pg_depend d
      JOIN pg_attrdef ad ON ad.oid = d.objid
     WHERE d.classid = 'pg_attrdef'::regclass
       AND d.refclassid = 'pg_class'::regclass
), cols AS (
    SELECT f.seq,
           tn.nspname || '.' || t.relname AS table_name,
           a.attname AS column_name,
           format_type(a.atttypid, NULL) AS column_type
      FROM feeds f
      JOIN pg_class t ON t.oid = f.rel AND NOT t.relispartition
      JOIN pg_namespace tn ON tn.oid = t.relnamespace
      JOIN pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.attnum AND NOT a.attisdropped
), s AS (
    SELECT c.oid AS seq,
           n.nspname || '.' || c.relname AS sequence_name,
           sq.seqincrement AS increment,
           has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable,
           CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')
                THEN pg_sequence_last_value(c.oid) END AS last_value,
           col.table_name,
           col.column_name,
           col.column_type,
           least(sq.seqmax,
                 CASE col.column_type
                      WHEN 'smallint' THEN 32767
                      WHEN 'integer' THEN 2147483647
                      ELSE 9223372036854775807 END) AS max_value,
           greatest(sq.seqmin,
                    CASE col.column_type
                         WHEN 'smallint' THEN -32768
                         WHEN 'integer' THEN -2147483648
                         ELSE -9223372036854775808 END) AS min_value
      FROM pg_sequence sq
      JOIN pg_class c ON c.oid = sq.seqrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN cols col ON col.seq = sq.seqrelid
), p AS (
    SELECT s.*,
           CASE WHEN s.increment > 0
                THEN round(100.0 * coalesce(s.last_value, 0) / s.max_value, 2)
                ELSE round(100.0 * coalesce(s.last_value, 0) / least(s.min_value, -1), 2)
           END AS used_pct
      FROM s
)
SELECT (SELECT count(DISTINCT p.seq) FROM p)::int AS sequences,
       (SELECT count(DISTINCT p.seq) FROM p WHERE NOT p.readable)::int AS unreadable,
       (SELECT coalesce(json_agg(t ORDER BY t.used_pct DESC, t.sequence_name, t.table_name,
                                 t.column_name), '[]')
          FROM (SELECT sequence_name, table_name, column_name, column_type, last_value,
                       max_value, used_pct
                  FROM p
                 ORDER BY used_pct DESC, sequence_name, table_name, column_name
                 LIMIT %(top)s) t) AS top
