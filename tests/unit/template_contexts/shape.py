"""Render contexts for sql_templates/shared/shape_*: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "shared/shape_index.sql.j2": {
        "index": None,
        "table": None,
        "unique": True,
        "index_tail": "USING btree (empresa_id)",
    },
    "shared/shape_constraint.sql.j2": {
        "table": None,
        "constraint": None,
        "constraint_def": "FOREIGN KEY (empresa_id) REFERENCES empresas(id)",
        "not_valid": True,
    },
    "shared/shape_validate.sql.j2": {"table": None, "constraint": None},
    "shared/shape_index_comment.sql.j2": {"index": None, "comment": "it's"},
}
