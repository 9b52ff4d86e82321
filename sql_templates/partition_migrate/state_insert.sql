INSERT INTO auroractl.migrations_partition
    (schema_name, table_name, twin_name, retired_name, strategy, by_period, key_column, pk,
     twin_pk, columns, rls_forced)
VALUES (%(schema)s, %(table)s, %(twin)s, %(retired)s, %(strategy)s, %(by_period)s, %(key_column)s,
        %(pk)s, %(twin_pk)s, %(columns)s, %(rls_forced)s)
