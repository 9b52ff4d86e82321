INSERT INTO auroractl.schema_split (kind, schema_name, object, from_schema, previous)
VALUES (%(kind)s, %(schema_name)s, %(object)s, %(from_schema)s, %(previous)s)
