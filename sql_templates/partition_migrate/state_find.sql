-- Migrations whose table (before or after the swap) is named like the argument.
SELECT schema_name, table_name
FROM auroractl.migrations_partition
WHERE (%(schema)s::text IS NULL OR schema_name = %(schema)s)
  AND %(table)s IN (table_name, twin_name, retired_name)
ORDER BY schema_name, table_name
