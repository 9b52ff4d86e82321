-- Abort: the migration is forgotten (its chunks go with it).
DELETE FROM auroractl.migrations_partition
WHERE schema_name = %(schema)s AND table_name = %(table)s
