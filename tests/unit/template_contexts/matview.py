"""Render contexts for sql_templates/matview/ and cache/."""

CONTEXTS = {
    "matview/create.sql.j2": {"view": None, "query": "SELECT 1 AS id"},
    "matview/unique_index.sql.j2": {"index": None, "view": None, "columns": None},
    "matview/refresh.sql.j2": {"view": None, "concurrently": True},
    "matview/drop.sql.j2": {"view": None},
    "matview/count.sql.j2": {"view": None},
    "matview/dashboard.sql.j2": {
        "root": None,
        "root_key": "id",
        "root_label": "nome",
        "tenant_column": "empresa_id",
        "aggregates": [
            {"name": "total", "table": ("public", "t"), "column": None},
            {"name": "soma", "table": ("public", "u"), "column": "valor"},
        ],
    },
    "cache/select_all.sql.j2": {"view": None},
}
MULTI_STATEMENT: set[str] = set()
