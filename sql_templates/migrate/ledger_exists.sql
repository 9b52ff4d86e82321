SELECT to_regclass('auroractl.schema_migrations') IS NOT NULL
