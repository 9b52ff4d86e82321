-- One migration, by_period the name its table has before the swap.
SELECT schema_name, table_name, twin_name, retired_name, strategy, by_period, key_column, pk,
       twin_pk, columns, phase, rls_forced, fill_done, copied, verified_ok, verified_phase,
       verified_at, matviews, fk_moves
FROM auroractl.migrations_partition
WHERE schema_name = %(schema)s AND table_name = %(table)s
