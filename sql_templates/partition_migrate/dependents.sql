-- Views and materialized views reading the table directly (they bind by OID), with their
-- options (security_barrier, check_option, ...), which CREATE OR REPLACE VIEW would reset.
SELECT DISTINCT v.oid::int8, n.nspname::text, v.relname::text, v.relkind::text,
       pg_get_viewdef(v.oid), v.reloptions::text[]
FROM pg_depend d
JOIN pg_rewrite r ON r.oid = d.objid
JOIN pg_class v ON v.oid = r.ev_class
JOIN pg_namespace n ON n.oid = v.relnamespace
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid = %(oid)s AND v.oid <> %(oid)s
ORDER BY 2, 3
