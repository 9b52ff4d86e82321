-- One ledger row per applied migration; in the migration's own transaction unless it
-- runs in autocommit.
INSERT INTO auroractl.schema_migrations
    (series, version, name, checksum, duration_ms, autocommit)
VALUES (
    %(series)s, %(version)s, %(name)s, %(checksum)s,
    greatest(0, round(1000 * extract(epoch FROM clock_timestamp()
        - current_setting('auroractl.migration_started')::timestamptz)))::integer,
    %(autocommit)s)
