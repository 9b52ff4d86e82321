-- Applied migrations, oldest first.
SELECT version, name, checksum, applied_at, duration_ms, applied_by, autocommit
FROM auroractl.schema_migrations
ORDER BY version
