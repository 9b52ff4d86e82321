SELECT to_regclass('auroractl.migrations_partition') IS NOT NULL
