-- The value each parameter will have after a reload / restart (the last entry wins:
-- postgresql.auto.conf, written by ALTER SYSTEM, is read last). A static parameter
-- changed in the file shows error 'setting could not be applied' until the restart,
-- so rows with an error are kept. Superuser only.
SELECT DISTINCT ON (name) name, setting
FROM pg_catalog.pg_file_settings
WHERE name = ANY(%(names)s::text[])
ORDER BY name, seqno DESC
