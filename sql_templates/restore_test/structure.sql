-- Structural fingerprint of a database: one (kind, item) row per object, comparable
-- between a source and its restored copy. auroractl's own schema is left out (its
-- ledgers change while a drill runs).
WITH user_ns AS (
    SELECT oid, nspname
    FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl')
      AND nspname NOT LIKE 'pg\_toast%%'
      AND nspname NOT LIKE 'pg\_temp\_%%'
      -- schemas an extension created (cron, partman ...) belong to the extension check
      AND oid NOT IN (SELECT objid FROM pg_depend
                      WHERE classid = 'pg_namespace'::regclass AND deptype = 'e')
),
ext_objects AS (
    SELECT objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 'schema'::text AS kind, nspname::text AS item FROM user_ns
UNION ALL
SELECT 'table', n.nspname || '.' || c.relname || ' (' || c.relkind::text || '): '
       || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                      || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                                      ', ' ORDER BY a.attnum)
                    FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND c.oid NOT IN (SELECT objid FROM ext_objects)
UNION ALL
SELECT 'index', n.nspname || '.' || ic.relname || ': ' || pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN user_ns n ON n.oid = ic.relnamespace
WHERE ic.oid NOT IN (SELECT objid FROM ext_objects)
  AND i.indrelid NOT IN (SELECT objid FROM ext_objects)
UNION ALL
SELECT 'constraint', n.nspname || '.' || coalesce(rc.relname, '-') || '.' || con.conname || ': '
       || pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN user_ns n ON n.oid = con.connamespace
LEFT JOIN pg_class rc ON rc.oid = con.conrelid
WHERE con.conrelid NOT IN (SELECT objid FROM ext_objects)
UNION ALL
SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid)
       || ') ' || md5(coalesce(p.prosrc, ''))
FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
WHERE p.oid NOT IN (SELECT objid FROM ext_objects)
UNION ALL
SELECT 'trigger', n.nspname || '.' || c.relname || '.' || t.tgname || ': '
       || pg_get_triggerdef(t.oid)
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN user_ns n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND c.oid NOT IN (SELECT objid FROM ext_objects)
UNION ALL
SELECT 'policy', schemaname || '.' || tablename || '.' || policyname || ': ' || cmd || ' '
       || coalesce(qual, '') || ' / ' || coalesce(with_check, '')
FROM pg_policies
WHERE schemaname IN (SELECT nspname FROM user_ns)
UNION ALL
SELECT 'extension', extname || ' ' || extversion FROM pg_extension WHERE extname <> 'plpgsql'
ORDER BY 1, 2
