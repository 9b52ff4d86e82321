UPDATE auroractl.migrations_partition
SET fk_moves = %(moves)s::jsonb, updated_at = now()
WHERE schema_name = %(schema)s AND table_name = %(table)s
