-- The table to migrate: kind, owner, RLS flags, primary key columns, comment.
SELECT n.nspname::text, c.relname::text, c.relkind::text, c.relrowsecurity,
       c.relforcerowsecurity, pg_get_userbyid(c.relowner)::text,
       ARRAY(SELECT a.attname::text
             FROM pg_index ix
             CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
             WHERE ix.indrelid = c.oid AND ix.indisprimary
             ORDER BY k.ord) AS pk,
       obj_description(c.oid, 'pg_class'),
       greatest(c.reltuples, 0)::int8
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = %(oid)s
