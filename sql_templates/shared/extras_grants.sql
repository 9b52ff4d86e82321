-- Privileges granted on a table (column NULL) and on its columns, except its owner's own;
-- a NULL grantee is PUBLIC.
SELECT NULL::text AS column_name,
       CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee)::text END AS grantee,
       a.privilege_type,
       a.is_grantable
FROM pg_class c
CROSS JOIN LATERAL aclexplode(c.relacl) AS a
WHERE c.oid = %(oid)s AND a.grantee <> c.relowner
UNION ALL
SELECT att.attname::text,
       CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee)::text END,
       a.privilege_type,
       a.is_grantable
FROM pg_class c
JOIN pg_attribute att ON att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped
CROSS JOIN LATERAL aclexplode(att.attacl) AS a
WHERE c.oid = %(oid)s AND a.grantee <> c.relowner
ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3
