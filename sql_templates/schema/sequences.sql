-- Sequences owned by the tables (serial / identity): they move with them.
SELECT DISTINCT t.relname, s.relname
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_class t ON t.oid = d.refobjid
WHERE d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid = ANY(%(oids)s::oid[])
  AND d.deptype IN ('a', 'i')
ORDER BY 1, 2
