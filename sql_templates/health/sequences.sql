-- Sequences by share of their range used, bounded by the owning column's integer type.
WITH s AS (
    SELECT n.nspname || '.' || c.relname AS sequence_name,
           sq.seqincrement AS increment,
           sq.seqmin,
           has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable,
           CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')
                THEN pg_sequence_last_value(c.oid) END AS last_value,
           own.table_name,
           own.column_name,
           own.column_type,
           least(sq.seqmax,
                 CASE own.column_type
                      WHEN 'smallint' THEN 32767
                      WHEN 'integer' THEN 2147483647
                      ELSE 9223372036854775807 END) AS max_value
      FROM pg_sequence sq
      JOIN pg_class c ON c.oid = sq.seqrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN LATERAL (
          SELECT tn.nspname || '.' || t.relname AS table_name,
                 a.attname AS column_name,
                 format_type(a.atttypid, NULL) AS column_type
            FROM pg_depend d
            JOIN pg_class t ON t.oid = d.refobjid
            JOIN pg_namespace tn ON tn.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
           WHERE d.classid = 'pg_class'::regclass
             AND d.objid = c.oid
             AND d.refclassid = 'pg_class'::regclass
             AND d.deptype IN ('a', 'i')
           LIMIT 1
      ) own ON true
), p AS (
    SELECT s.*,
           CASE WHEN s.increment > 0
                THEN round(100.0 * coalesce(s.last_value, 0) / s.max_value, 2)
                ELSE round(100.0 * coalesce(s.last_value, 0) / least(s.seqmin, -1), 2)
           END AS used_pct
      FROM s
)
SELECT (SELECT count(*) FROM p)::int AS sequences,
       (SELECT count(*) FROM p WHERE NOT p.readable)::int AS unreadable,
       (SELECT coalesce(json_agg(t ORDER BY t.used_pct DESC, t.sequence_name), '[]')
          FROM (SELECT sequence_name, table_name, column_name, column_type, last_value,
                       max_value, used_pct
                  FROM p
                 ORDER BY used_pct DESC, sequence_name
                 LIMIT %(top)s) t) AS top
