"""Render contexts for sql_templates/partition_migrate/: ``None`` is a hostile identifier.

Batch statements take bind parameters (``%(l0)s`` ... at run time); here they render as
NULL so that pglast can parse them.
"""

import datetime as dt

HOSTILE_COL = 'c"ol umn'
_KEYS = {"pk": [HOSTILE_COL, "id"], "columns": None, "lower": ["NULL", "NULL"]}
_RANGE = {**_KEYS, "upper": ["NULL", "NULL"]}
_FK = {
    "function": None,
    "label": "it's",
    "constraint": "it's_fk",  # a string literal in messages (identifiers elsewhere)
    "columns": None,
    "ref_columns": [HOSTILE_COL, "id"],
    "referenced": None,
    "referenced_label": 'public."x; drop table y"',
    "referencing": None,
    "referencing_label": "it's",
    "match": "s",
}

CONTEXTS = {
    "partition_migrate/_range.sql.j2": dict(_RANGE),
    "partition_migrate/boundaries.sql.j2": {
        "table": None,
        "pk": [HOSTILE_COL],
        "ph": {"step": "NULL"},
    },
    "partition_migrate/bounds.sql.j2": {"table": None, "column": None, "ordered": True},
    "partition_migrate/checksum.sql.j2": {"table": None, **_RANGE},
    "partition_migrate/comment_table.sql.j2": {"table": None, "comment": "it's"},
    "partition_migrate/count.sql.j2": {"table": None},
    "partition_migrate/create_matview.sql.j2": {"view": None, "definition": "SELECT 1 AS x"},
    "partition_migrate/drop_matview.sql.j2": {"view": None},
    "partition_migrate/rename_matview.sql.j2": {"view": None, "name": None},
    "partition_migrate/comment_matview.sql.j2": {"view": None, "comment": "it's"},
    "partition_migrate/create_partition.sql.j2": {
        "partition": None,
        "parent": None,
        "kind": "range",
        "lower": dt.date(2026, 1, 1),
        "upper": dt.date(2027, 1, 1),
        "value": None,
        "modulus": 0,
        "remainder": 0,
    },
    "partition_migrate/create_policy.sql.j2": {
        "policy": None,
        "table": None,
        "permissive": True,
        "command": "ALL",
        "roles": ["", "app"],
        "using": "empresa_id = 1",
        "check": "empresa_id = 1",
    },
    "partition_migrate/create_trigger.sql.j2": {"trigger": None, "table": None, "function": None},
    "partition_migrate/create_twin.sql.j2": {
        "twin": None,
        "table": None,
        "strategy": "range",
        "column": None,
    },
    "partition_migrate/diff_keys.sql.j2": {
        "table": None,
        "other": None,
        "ph": {"limit": "NULL"},
        **_RANGE,
    },
    "partition_migrate/distinct_values.sql.j2": {"table": None, "column": None},
    "partition_migrate/drop_constraint.sql.j2": {"table": None, "constraint": None},
    "partition_migrate/drop_function.sql.j2": {"function": None},
    "partition_migrate/drop_table.sql.j2": {"table": None},
    "partition_migrate/drop_trigger.sql.j2": {"trigger": None, "table": None},
    "partition_migrate/enable_trigger.sql.j2": {"table": None, "trigger": None, "state": "R"},
    "partition_migrate/fill_batch.sql.j2": {
        "table": None,
        "twin": None,
        "ph": {"limit": "NULL"},
        **_RANGE,
    },
    "partition_migrate/grant.sql.j2": {
        "privilege": "SELECT",
        "table": None,
        "role": None,
        "grantable": True,
        "kind": "sequence",
    },
    "partition_migrate/revoke.sql.j2": {
        "privilege": "USAGE",
        "table": None,
        "role": None,
        "grant_option": True,
        "kind": "sequence",
    },
    "partition_migrate/lock.sql.j2": {"table": None, "other": None},
    "partition_migrate/mirror_function.sql.j2": {
        "function": None,
        "target": None,
        "columns": None,
        "match": [HOSTILE_COL, "id"],
        "conflict": [HOSTILE_COL, "id"],
        "update_columns": [HOSTILE_COL, "x"],
    },
    "partition_migrate/own_sequence.sql.j2": {"sequence": None, "table": None, "column": None},
    "partition_migrate/rename_index.sql.j2": {"index": None, "name": None},
    "partition_migrate/rename_table.sql.j2": {"table": None, "name": None},
    "partition_migrate/replace_view.sql.j2": {
        "view": None,
        "definition": "SELECT 1 AS x",
        "options": [("security_barrier", "true"), ("check_option", "it's")],
    },
    "partition_migrate/rls.sql.j2": {"table": None, "action": "no force"},
    "partition_migrate/reverse_mirror_function.sql.j2": {
        "function": None,
        "source": None,
        "target": None,
        "columns": None,
        "match": [HOSTILE_COL, "id"],
        "update_columns": [HOSTILE_COL, "x"],
        "conflict_update": ["x"],
    },
    "partition_migrate/sequence_copy.sql.j2": {
        "source": None,
        "target_text": 'public."x; drop table y"',
    },
    "partition_migrate/rename_sequence.sql.j2": {"sequence": None, "name": None},
    "partition_migrate/drop_policy.sql.j2": {"policy": None, "table": None},
    "partition_migrate/comment_column.sql.j2": {"table": None, "column": None, "comment": None},
    "partition_migrate/comment_trigger.sql.j2": {"trigger": None, "table": None, "comment": "x'"},
    "partition_migrate/set_statistics.sql.j2": {"table": None, "column": None, "target": 500},
    "partition_migrate/owner.sql.j2": {"table": None, "owner": HOSTILE_COL},
    "partition_migrate/publication_add.sql.j2": {
        "publication": HOSTILE_COL,
        "table": None,
        "columns": None,
        "where": "(id > 0)",
    },
    "partition_migrate/publication_drop.sql.j2": {"publication": HOSTILE_COL, "table": None},
    "partition_migrate/lock_one.sql.j2": {"table": None, "mode": "SHARE ROW EXCLUSIVE"},
    "partition_migrate/validate_constraint.sql.j2": {"table": None, "constraint": None},
    "partition_migrate/add_foreign_key.sql.j2": {
        "table": None,
        "constraint": None,
        "columns": None,
        "referenced": None,
        "ref_columns": [HOSTILE_COL, "id"],
        "match": "f",
        "on_update": "c",
        "on_delete": "n",
        "delete_set_columns": [HOSTILE_COL],
        "deferrable": True,
        "deferred": True,
        "not_valid": True,
    },
    "partition_migrate/fk_trigger.sql.j2": {
        "trigger": None,
        "table": None,
        "events": "INSERT OR UPDATE",
        "function": None,
        "deferrable": True,
        "deferred": False,
    },
    "partition_migrate/_fk_macros.sql.j2": {},
    "partition_migrate/fk_check_function.sql.j2": dict(_FK, match="f"),
    "partition_migrate/fk_action_function.sql.j2": dict(
        _FK, on_delete="n", on_update="c", delete_set_columns=[]
    ),
    "partition_migrate/fk_validate.sql.j2": dict(_FK, match="s"),
}
WRAPPERS = {
    "partition_migrate/_range.sql.j2": "SELECT 1 WHERE {}",
    "partition_migrate/_fk_macros.sql.j2": "SELECT 1{}",
}
