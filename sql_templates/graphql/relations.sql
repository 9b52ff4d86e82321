-- Every relation PostGraphile could serve from the exposed schemas (tables, partitioned
-- tables and their partitions, views, materialized views, foreign tables), as the role
-- sees it: identities, tenant column, row security, privileges (per-column grants
-- included), personal columns it can read, and sequences its INSERTs need.
WITH app AS (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
SELECT n.nspname,
       c.relname,
       c.relkind::text,
       c.relispartition,
       (SELECT pn.nspname || '.' || pc.relname
          FROM pg_inherits i
          JOIN pg_class pc ON pc.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid LIMIT 1) AS parent,
       EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conrelid = c.oid AND p.contype = 'p')
           AS has_pk,
       -- UNIQUE constraints: PostGraphile serves a lookup, an update and a delete by each
       coalesce((SELECT array_agg(u.conname::text ORDER BY u.conname)
                   FROM pg_constraint u WHERE u.conrelid = c.oid AND u.contype = 'u'), '{}')
           AS uniques,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
               AND a.attname = %(tenant_column)s AND NOT a.attisdropped) AS is_tenant,
       c.relrowsecurity,
       c.relforcerowsecurity,
       coalesce(c.reloptions::text[] && ARRAY['security_invoker=true', 'security_invoker=on',
                                              'security_invoker=1'], false) AS security_invoker,
       CASE WHEN EXISTS (SELECT 1 FROM app) THEN
           array_remove(ARRAY[
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'SELECT') THEN 'SELECT'
                    WHEN has_any_column_privilege(%(role)s, c.oid, 'SELECT')
                        THEN 'SELECT (columns)' END,
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'INSERT') THEN 'INSERT'
                    WHEN has_any_column_privilege(%(role)s, c.oid, 'INSERT')
                        THEN 'INSERT (columns)' END,
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'UPDATE') THEN 'UPDATE'
                    WHEN has_any_column_privilege(%(role)s, c.oid, 'UPDATE')
                        THEN 'UPDATE (columns)' END,
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'DELETE') THEN 'DELETE' END],
               NULL) END AS app_privileges,
       coalesce((
           SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             -- schema.table.column, as the data map names it
             AND format('%%s.%%s.%%s', n.nspname, c.relname, a.attname) = ANY (%(personal)s)
             AND (NOT EXISTS (SELECT 1 FROM app)
                  OR has_column_privilege(%(role)s, c.oid, a.attnum, 'SELECT'))), '{}')
           AS personal_readable,
       -- sequences a column DEFAULT calls nextval() on: an INSERT by the role needs USAGE
       -- (identity columns do not); only those the role lacks, only where it may INSERT.
       coalesce((SELECT array_agg(DISTINCT ARRAY[sn.nspname::text, sq.relname::text])
                   FROM pg_attrdef ad
                   JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                                   AND d.refclassid = 'pg_class'::regclass
                   JOIN pg_class sq ON sq.oid = d.refobjid
                   JOIN pg_namespace sn ON sn.oid = sq.relnamespace
                  WHERE ad.adrelid = c.oid
                    AND EXISTS (SELECT 1 FROM app)
                    AND has_any_column_privilege(%(role)s, c.oid, 'INSERT')
                    AND NOT CASE WHEN sq.relkind = 'S'
                                 THEN has_sequence_privilege(%(role)s, sq.oid, 'USAGE')
                                 ELSE true END), '{}') AS sequences_missing
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname = ANY (%(schemas)s)
  -- an extension's own relations (pg_stat_statements): PostGraphile skips them too
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                  AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY c.relispartition, 1, 2
