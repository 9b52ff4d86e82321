INSERT INTO webhook_subscriptions
    (event_type, table_schema, table_name, operations, endpoint_url, secret_env, exclude_columns)
VALUES (%(event)s, %(schema)s, %(name)s, %(operations)s, %(url)s, %(secret_env)s, %(exclude)s)
ON CONFLICT (event_type, table_schema, table_name, endpoint_url) DO UPDATE
SET operations = EXCLUDED.operations, secret_env = EXCLUDED.secret_env,
    exclude_columns = EXCLUDED.exclude_columns, active = true
