-- Table privileges granted to others than the owner ('' = PUBLIC).
SELECT CASE WHEN g.grantee = 0 THEN '' ELSE pg_get_userbyid(g.grantee)::text END,
       g.privilege_type, g.is_grantable
FROM pg_class c
CROSS JOIN LATERAL aclexplode(c.relacl) AS g
WHERE c.oid = %(oid)s AND g.grantee <> c.relowner
ORDER BY 1, 2
