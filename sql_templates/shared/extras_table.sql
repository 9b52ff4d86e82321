-- A table's row security flags, storage parameters and comment.
SELECT c.relrowsecurity, c.relforcerowsecurity, c.reloptions::text[],
       obj_description(c.oid, 'pg_class')
FROM pg_class c
WHERE c.oid = %(oid)s
