-- One moved foreign key is validated (its position in fk_moves).
UPDATE auroractl.migrations_partition
SET fk_moves = jsonb_set(fk_moves, ARRAY[%(i)s::text, 'validated'], 'true'), updated_at = now()
WHERE schema_name = %(schema)s AND table_name = %(table)s
