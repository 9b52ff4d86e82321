"""Render contexts for sql_templates/map/: ``None`` stands for a hostile identifier."""

_COLS = ['e"mail', "x; drop table y"]

CONTEXTS = {
    "map/sample.sql.j2": {
        "tables": [
            {"name": ("public", 'a"b'), "columns": _COLS},
            {"name": ("x; drop table y", "t"), "columns": ["c"]},
        ],
        "ph": {"limit": "NULL"},
    },
    "map/check_values.sql.j2": {
        "cases": [
            {"column": 'e"mail', "expression": "true", "type": "text"},
            {"column": "x; drop table y", "expression": "1 > 0", "type": "date"},
        ],
        "ph": "NULL",
    },
}
