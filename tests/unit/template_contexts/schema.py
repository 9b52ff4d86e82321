"""Render contexts for sql_templates/schema/: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "schema/create_schema.sql.j2": {"schema": None},
    "schema/drop_schema.sql.j2": {"schema": None},
    "schema/grant_usage.sql.j2": {"schema": None, "role": None},
    "schema/revoke_usage.sql.j2": {"schema": None, "role": None},
    "schema/set_schema.sql.j2": {"table": None, "schema": None},
    "schema/set_search_path.sql.j2": {
        "role": None,
        "database": 'db"; select 1; --',
        "path": ["$user", "public", 'a"b', "Ünïcode name"],
    },
    "schema/reset_search_path.sql.j2": {"role": None, "database": "x; select 1"},
}
