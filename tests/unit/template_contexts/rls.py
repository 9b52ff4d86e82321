"""Render contexts for sql_templates/rls/: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "rls/_tenant_predicate.sql.j2": {
        "column": None,
        "setting": "app.current_empresa_id",
        "kind": "bigint",
    },
    "rls/comment_policy.sql.j2": {"policy": None, "table": None, "comment": "it's v1"},
    "rls/create_maintenance_policy.sql.j2": {"policy": None, "table": None, "role": None},
    "rls/create_policy.sql.j2": {
        "policy": None,
        "table": None,
        "column": None,
        "setting": "app.it's",
        "kind": "uuid",
    },
    "rls/tenant_values.sql.j2": {"tables": [("public", "a"), ("x;", 'b"')], "column": None, "n": 3},
    "rls/create_role.sql.j2": {"role": None},
    "rls/disable.sql.j2": {"table": None},
    "rls/drop_policy.sql.j2": {"policy": None, "table": None},
    "rls/enable.sql.j2": {"table": None},
    "rls/force.sql.j2": {"table": None},
    "rls/grant_role.sql.j2": {"role": None},
    "rls/grant_schema.sql.j2": {"schema": None, "role": None},
    "rls/grant_table.sql.j2": {"table": None, "role": None},
    "rls/grant_sequence.sql.j2": {"sequence": None, "role": None},
    "rls/no_force.sql.j2": {"table": None},
}

WRAPPERS = {"rls/_tenant_predicate.sql.j2": "SELECT 1 FROM t WHERE {}"}
