-- Before PostgreSQL 15 only a superuser may run ALTER SYSTEM.
SELECT CASE WHEN r.rolsuper THEN ARRAY[]::text[] ELSE %(names)s::text[] END
FROM pg_catalog.pg_roles AS r
WHERE r.rolname = current_user
