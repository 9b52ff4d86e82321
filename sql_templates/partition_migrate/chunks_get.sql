SELECT chunk, lower_key, upper_key, watermark, done, copied
FROM auroractl.migrations_partition_chunks
WHERE schema_name = %(schema)s AND table_name = %(table)s
ORDER BY chunk
