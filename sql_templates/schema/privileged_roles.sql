-- Roles that use the tables (owner, table or column privileges): they need USAGE on the
-- schema the tables move to. grantee 0 is PUBLIC.
SELECT DISTINCT role FROM (
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS role
    FROM pg_class c, aclexplode(c.relacl) a
    WHERE c.oid = ANY(%(oids)s::oid[])
    UNION ALL
    SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
    FROM pg_attribute att, aclexplode(att.attacl) a
    WHERE att.attrelid = ANY(%(oids)s::oid[]) AND att.attacl IS NOT NULL
    UNION ALL
    SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = ANY(%(oids)s::oid[])
) r
ORDER BY role
