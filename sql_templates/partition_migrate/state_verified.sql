UPDATE auroractl.migrations_partition
SET verified_ok = %(ok)s, verified_phase = phase, verified_at = now(), updated_at = now()
WHERE schema_name = %(schema)s AND table_name = %(table)s
