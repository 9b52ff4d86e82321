-- Default privileges defined for a schema (they do not carry over to other schemas).
SELECT pg_get_userbyid(d.defaclrole), d.defaclobjtype
FROM pg_default_acl d
WHERE d.defaclnamespace = to_regnamespace(%(schema)s)
ORDER BY 1, 2
