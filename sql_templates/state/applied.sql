-- Installed versions of auroractl's own tables, oldest first.
SELECT version, name, checksum, applied_at, duration_ms, applied_by, autocommit
FROM auroractl.state_version
ORDER BY version
