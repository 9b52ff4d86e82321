-- Everything `apply` recorded, newest first (the order `revert` undoes it in).
SELECT id, kind, schema_name, object, from_schema, previous
FROM auroractl.schema_split
ORDER BY id DESC
