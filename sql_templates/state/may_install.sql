-- May this role install or upgrade auroractl's tables? Creating the schema needs CREATE
-- on the database; creating tables in it needs CREATE on the schema.
SELECT CASE
    WHEN to_regnamespace('auroractl') IS NULL
        THEN has_database_privilege(current_database(), 'CREATE')
    ELSE has_schema_privilege('auroractl', 'CREATE')
END
