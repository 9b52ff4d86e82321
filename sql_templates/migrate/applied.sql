-- Applied migrations of one series, oldest first.
SELECT version, name, checksum, applied_at, duration_ms, applied_by, autocommit
FROM auroractl.schema_migrations
WHERE series = %(series)s
ORDER BY version
