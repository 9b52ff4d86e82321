-- A user-given relation name (search_path rules, quoting honoured) -> schema, name, oid, kind.
SELECT n.nspname, c.relname, c.oid::int8, c.relkind::text
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(%(name)s)
