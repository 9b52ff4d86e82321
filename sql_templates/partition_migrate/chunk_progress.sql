-- Committed in the same transaction as the batch it describes.
UPDATE auroractl.migrations_partition_chunks
SET watermark = coalesce(%(watermark)s, watermark), copied = copied + %(copied)s,
    done = %(done)s
WHERE schema_name = %(schema)s AND table_name = %(table)s AND chunk = %(chunk)s
