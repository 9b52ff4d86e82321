-- One row per installed version of auroractl's own tables, in its transaction.
INSERT INTO auroractl.state_version (version, name, checksum, duration_ms, autocommit)
VALUES (
    %(version)s, %(name)s, %(checksum)s,
    greatest(0, round(1000 * extract(epoch FROM clock_timestamp()
        - current_setting('auroractl.migration_started')::timestamptz)))::integer,
    %(autocommit)s)
