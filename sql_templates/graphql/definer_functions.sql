-- SECURITY DEFINER functions of the served schemas that the role may execute: PostGraphile
-- serves them as fields (STABLE/IMMUTABLE as queries, VOLATILE as mutations), and each runs
-- as its owner. Extension members and trigger functions are not served.
SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid),
       pg_get_userbyid(p.proowner)::text
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND p.prosecdef AND p.prokind IN ('f', 'p')
  AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  AND CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)
           THEN has_function_privilege(%(role)s, p.oid, 'EXECUTE') END
ORDER BY 1, 2, 3
