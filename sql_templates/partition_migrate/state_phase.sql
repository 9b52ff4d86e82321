UPDATE auroractl.migrations_partition
SET phase = %(phase)s, verified_ok = NULL, verified_phase = NULL, updated_at = now()
WHERE schema_name = %(schema)s AND table_name = %(table)s
