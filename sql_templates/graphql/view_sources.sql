-- Per view or materialized view in the exposed schemas: the tables it reads (through its
-- rewrite rule) and which of their columns, as schema.table.column.
SELECT vn.nspname || '.' || v.relname AS label,
       array_agg(DISTINCT tn.nspname || '.' || t.relname) AS tables,
       array_agg(DISTINCT format('%%s.%%s.%%s', tn.nspname, t.relname, a.attname))
           FILTER (WHERE a.attname IS NOT NULL) AS columns
FROM pg_class v
JOIN pg_namespace vn ON vn.oid = v.relnamespace
JOIN pg_rewrite rw ON rw.ev_class = v.oid
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
JOIN pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p', 'v', 'm', 'f')
JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
                        AND d.refobjsubid > 0
WHERE v.relkind IN ('v', 'm')
  AND vn.nspname = ANY (%(schemas)s)
GROUP BY 1
ORDER BY 1
