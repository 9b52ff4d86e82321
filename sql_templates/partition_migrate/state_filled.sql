UPDATE auroractl.migrations_partition
SET fill_done = NOT EXISTS (
        SELECT FROM auroractl.migrations_partition_chunks c
        WHERE c.schema_name = %(schema)s AND c.table_name = %(table)s AND NOT c.done),
    copied = (SELECT coalesce(sum(c.copied), 0) FROM auroractl.migrations_partition_chunks c
              WHERE c.schema_name = %(schema)s AND c.table_name = %(table)s),
    updated_at = now()
WHERE schema_name = %(schema)s AND table_name = %(table)s
