-- Materialized views reading the table, as defined before the swap renamed it.
UPDATE auroractl.migrations_partition
SET matviews = %(matviews)s::jsonb, updated_at = now()
WHERE schema_name = %(schema)s AND table_name = %(table)s
