-- The row security policies of the exposed tables that apply to the role (TO PUBLIC or to
-- a role it is a member of), with their expressions as PostgreSQL deparses them.
SELECT n.nspname || '.' || c.relname AS label,
       p.polname,
       p.polpermissive,
       p.polcmd::text,
       coalesce(pg_get_expr(p.polqual, p.polrelid), '') AS using_expr,
       coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') AS check_expr
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s)
  AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)
  AND (p.polroles = '{0}'
       OR EXISTS (SELECT 1 FROM unnest(p.polroles) r
                  WHERE r <> 0 AND pg_has_role(%(role)s, r, 'MEMBER')))
ORDER BY 1, 2
