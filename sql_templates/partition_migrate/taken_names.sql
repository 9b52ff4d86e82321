-- Which of the given names are taken by a relation (table, index, sequence, view...)
-- of the schema.
SELECT c.relname::text
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = ANY(%(names)s)
