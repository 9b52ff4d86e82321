-- Per exposed table: primary key, tenant column, RLS state, the application role's
-- privileges, unindexed foreign keys and columns, in one pass over the catalog.
WITH app AS (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
SELECT n.nspname,
       c.relname,
       EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conrelid = c.oid AND p.contype = 'p')
           AS has_pk,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
               AND a.attname = %(tenant_column)s AND NOT a.attisdropped) AS is_tenant,
       c.relrowsecurity,
       c.relforcerowsecurity,
       CASE WHEN EXISTS (SELECT 1 FROM app) THEN
           array_remove(ARRAY[
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'SELECT') THEN 'SELECT' END,
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'INSERT') THEN 'INSERT' END,
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'UPDATE') THEN 'UPDATE' END,
               CASE WHEN has_table_privilege(%(role)s, c.oid, 'DELETE') THEN 'DELETE' END],
               NULL) END AS app_privileges,
       coalesce((
           SELECT array_agg(fk.conname::text ORDER BY fk.conname)
           FROM pg_constraint fk
           WHERE fk.conrelid = c.oid AND fk.contype = 'f'
             AND NOT EXISTS (
                 SELECT 1 FROM pg_index i
                 WHERE i.indrelid = c.oid
                   AND (i.indkey::int2[])[0:array_length(fk.conkey, 1) - 1] @> fk.conkey
                   AND (i.indkey::int2[])[0:array_length(fk.conkey, 1) - 1] <@ fk.conkey)),
           '{}') AS unindexed_fks,
       coalesce((
           SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             -- schema.table.column, as the data map names it
             AND format('%%s.%%s.%%s', n.nspname, c.relname, a.attname) = ANY (%(personal)s)
             AND (NOT EXISTS (SELECT 1 FROM app)
                  OR has_column_privilege(%(role)s, c.oid, a.attnum, 'SELECT'))), '{}')
           AS personal_exposed
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname = ANY (%(schemas)s)
ORDER BY 1, 2
