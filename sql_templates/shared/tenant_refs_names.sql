-- The names taken in a schema by relations (indexes) and constraints.
SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = %(schema)s::regnamespace
UNION
SELECT con.conname::text FROM pg_constraint con WHERE con.connamespace = %(schema)s::regnamespace
