SELECT to_regclass('auroractl.schema_split') IS NOT NULL
