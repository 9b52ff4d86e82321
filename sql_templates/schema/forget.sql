DELETE FROM auroractl.schema_split WHERE id = %(id)s
