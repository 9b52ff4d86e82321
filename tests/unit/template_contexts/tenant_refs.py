"""Render contexts for sql_templates/shared/tenant_refs_*: ``None`` stands for a hostile
identifier."""

CONTEXTS = {
    "shared/tenant_refs_offending.sql.j2": {
        "table": None,
        "referenced": None,
        "column": None,
        "columns": None,
        "pairs": [("a", "b"), ('x"y', "z")],
    },
    "shared/tenant_refs_offending_rows.sql.j2": {
        "table": None,
        "referenced": None,
        "column": None,
        "pairs": [("a", "b"), ('x"y', "z")],
    },
    "shared/tenant_refs_index.sql.j2": {
        "index": None,
        "table": None,
        "columns": None,
        "unique": True,
    },
    "shared/drop_invalid_index.sql.j2": {"index": ("public", "i")},
    "shared/tenant_refs_parent_index.sql.j2": {"index": None, "table": None, "columns": None},
    "shared/tenant_refs_unique_using.sql.j2": {"table": None, "name": None},
    "shared/tenant_refs_unique.sql.j2": {"table": None, "name": None, "columns": None},
    "shared/tenant_refs_add_fk.sql.j2": {
        "table": None,
        "name": None,
        "columns": None,
        "referenced": None,
        "referenced_columns": None,
        "on_delete": "SET NULL",
        "on_update": "CASCADE",
        "set_columns": ["a", 'b"c'],
        "deferrable": True,
        "deferred": True,
        "not_valid": True,
    },
    "shared/tenant_refs_drop_fk.sql.j2": {"table": None, "name": None},
}
