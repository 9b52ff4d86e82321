-- Objects bound to the table by OID that neither follow a rename of it nor are
-- re-created by partition migrate: functions with SQL-standard bodies, rules of other
-- relations, column defaults and constraints of other tables using it, ... (views,
-- materialized views, foreign keys, triggers, policies, publications, the table's own
-- parts and sequences are handled separately).
SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_depend d
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = %(oid)s
  AND d.deptype = 'n'
  AND d.classid NOT IN ('pg_constraint'::regclass,
                        'pg_trigger'::regclass, 'pg_policy'::regclass,
                        'pg_publication_rel'::regclass, 'pg_statistic_ext'::regclass,
                        'pg_index'::regclass, 'pg_attrdef'::regclass)
  AND NOT (d.classid = 'pg_class'::regclass AND EXISTS (
      SELECT FROM pg_class c WHERE c.oid = d.objid AND c.relkind IN ('i', 'I', 'S')))
  AND NOT (d.classid = 'pg_type'::regclass)
  AND NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS (
      SELECT FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class
      WHERE r.oid = d.objid AND v.relkind IN ('v', 'm') AND v.oid <> %(oid)s))
ORDER BY 1
