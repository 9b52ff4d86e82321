-- Existing schemas among these, their owner and the roles with USAGE on them.
SELECT n.nspname,
       pg_get_userbyid(n.nspowner),
       coalesce(array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END)
                FILTER (WHERE a.privilege_type = 'USAGE'), '{}')
FROM pg_namespace n
LEFT JOIN LATERAL aclexplode(n.nspacl) a ON true
WHERE n.nspname = ANY(%(schemas)s)
GROUP BY n.nspname, n.nspowner
