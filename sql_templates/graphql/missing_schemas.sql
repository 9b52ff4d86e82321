-- The requested schemas that do not exist, in the order given.
SELECT s
FROM unnest(%(schemas)s::text[]) WITH ORDINALITY AS u (s, i)
WHERE NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = u.s)
ORDER BY i
