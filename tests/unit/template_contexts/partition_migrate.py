"""Render contexts for sql_templates/partition_migrate/: ``None`` is a hostile identifier.

Batch statements take bind parameters (``%(l0)s`` ... at run time); here they render as
NULL so that pglast can parse them.
"""

import datetime as dt

HOSTILE_COL = 'c"ol umn'
_KEYS = {"pk": [HOSTILE_COL, "id"], "columns": None, "lower": ["NULL", "NULL"]}
_RANGE = {**_KEYS, "upper": ["NULL", "NULL"]}

CONTEXTS = {
    "partition_migrate/_range.sql.j2": dict(_RANGE),
    "partition_migrate/boundaries.sql.j2": {
        "table": None,
        "pk": [HOSTILE_COL],
        "ph": {"step": "NULL"},
    },
    "partition_migrate/bounds.sql.j2": {"table": None, "column": None},
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
    "partition_migrate/drop_default.sql.j2": {"table": None, "column": None},
    "partition_migrate/drop_function.sql.j2": {"function": None},
    "partition_migrate/drop_table.sql.j2": {"table": None},
    "partition_migrate/drop_trigger.sql.j2": {"trigger": None, "table": None},
    "partition_migrate/enable_trigger.sql.j2": {"table": None, "trigger": None, "enable": False},
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
    "partition_migrate/replace_view.sql.j2": {"view": None, "definition": "SELECT 1 AS x"},
    "partition_migrate/rls.sql.j2": {"table": None, "action": "no force"},
    "partition_migrate/set_default_nextval.sql.j2": {
        "table": None,
        "column": None,
        "sequence_text": 'public."x; drop table y"',
    },
}
WRAPPERS = {"partition_migrate/_range.sql.j2": "SELECT 1 WHERE {}"}
