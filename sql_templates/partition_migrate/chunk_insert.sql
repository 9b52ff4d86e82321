INSERT INTO auroractl.migrations_partition_chunks
    (schema_name, table_name, chunk, lower_key, upper_key)
VALUES (%(schema)s, %(table)s, %(chunk)s, %(lower)s, %(upper)s)
ON CONFLICT DO NOTHING
