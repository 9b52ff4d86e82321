-- A table's row security policies, deparsed; a NULL role is PUBLIC.
SELECT pol.polname::text,
       pol.polpermissive,
       pol.polcmd::text,
       ARRAY(SELECT CASE WHEN r.oid = 0 THEN NULL ELSE pg_get_userbyid(r.oid)::text END
             FROM unnest(pol.polroles) AS r(oid)),
       pg_get_expr(pol.polqual, pol.polrelid),
       pg_get_expr(pol.polwithcheck, pol.polrelid)
FROM pg_policy pol
WHERE pol.polrelid = %(oid)s
ORDER BY pol.polname
