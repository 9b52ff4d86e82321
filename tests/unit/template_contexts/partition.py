"""Render contexts for sql_templates/partition/: ``None`` stands for a hostile identifier."""

import datetime as dt

CONTEXTS = {
    "partition/_predicate.sql.j2": {
        "key": None,
        "lower": dt.date(2026, 1, 1),
        "upper": dt.date(2027, 1, 1),
    },
    "partition/_bound.sql.j2": {"lower": dt.date(2026, 1, 1), "upper": dt.date(2027, 1, 1)},
    "partition/analyze.sql.j2": {"table": None},
    "partition/archive.sql.j2": {"partition": None, "schema": None},
    "partition/attach.sql.j2": {
        "parent": None,
        "partition": None,
        "bound": "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    },
    "partition/count.sql.j2": {"table": None},
    "partition/count_in_bounds.sql.j2": {"default": None, "predicate": "true"},
    "partition/create.sql.j2": {"partition": None, "parent": None, "predicate": "true"},
    "partition/create_schema.sql.j2": {"schema": None},
    "partition/detach.sql.j2": {
        "parent": None,
        "partition": None,
        "concurrently": True,
        "finalize": False,
    },
    "partition/drop.sql.j2": {"partition": None},
    "partition/drop_bound_check.sql.j2": {"partition": None},
    "partition/lock_parent.sql.j2": {"parent": None},
    "partition/move.sql.j2": {
        "default": None,
        "partition": None,
        "predicate": "true",
        "columns": None,
    },
}
# Fragments are parsed inside the statement they are made for.
WRAPPERS = {
    "partition/_predicate.sql.j2": "SELECT 1 FROM t WHERE {}",
    "partition/_bound.sql.j2": "ALTER TABLE t ATTACH PARTITION p {}",
}
