-- Functions whose body text names one of the tables. Bodies are plain text resolved at
-- run time through search_path (unlike views, triggers, policies and BEGIN ATOMIC bodies,
-- which PostgreSQL binds by OID). Extension functions and C/internal ones are skipped.
SELECT p.oid::regprocedure::text, l.lanname, p.prosrc, p.proconfig
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%%'
  AND l.lanname NOT IN ('c', 'internal')
  AND p.prosqlbody IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  AND p.prosrc ~* %(pattern)s
ORDER BY 1
