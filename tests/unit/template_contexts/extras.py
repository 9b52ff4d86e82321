"""Render contexts for sql_templates/shared/extras_*: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "shared/extras_row_security.sql.j2": {"table": None, "force": True},
    "shared/extras_policy.sql.j2": {
        "table": None,
        "policy": None,
        "permissive": False,
        "command": "SELECT",
        "roles": [None, "app_ro"],
        "using": "(tenant_id = 1)",
        "check": "(tenant_id = 1)",
    },
    "shared/extras_grant.sql.j2": {
        "table": None,
        "privileges": ["SELECT", "UPDATE"],
        "grantee": 'app "ro"',
        "grantable": True,
        "column": None,
    },
    "shared/extras_options.sql.j2": {
        "table": None,
        "options": [("fillfactor", "70"), ("autovacuum_enabled", "false")],
    },
    "shared/extras_comment.sql.j2": {"table": None, "comment": 'it\'s a "comment"'},
    "shared/extras_column_comment.sql.j2": {"table": None, "column": None, "comment": "x"},
}
