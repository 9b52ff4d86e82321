"""Render contexts for sql_templates/audit/: ``None`` stands for a hostile identifier."""

import datetime as dt

_TRIGGER = {
    "trigger": None,
    "table": None,
    "function": None,
    "pk_array": '{"id"}',
    "pii_array": '{"email","it\'s"}',
    "label": "public.it's",
}

CONTEXTS = {
    "audit/comment_trigger.sql.j2": {"trigger": None, "table": None, "comment": "it's v1"},
    "audit/create_default.sql.j2": {"partition": None, "table": None},
    "audit/create_index.sql.j2": {"index": None, "table": None, "columns": None},
    "audit/create_rows_index.sql.j2": {
        "index": None,
        "table": None,
        "only": True,
        "concurrently": False,
    },
    "audit/create_log.sql.j2": {"table": None},
    "audit/create_month.sql.j2": {
        "partition": None,
        "table": None,
        "lower": dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        "upper": dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    },
    "audit/create_row_trigger.sql.j2": dict(_TRIGGER),
    "audit/create_schema.sql.j2": {"schema": None},
    "audit/create_truncate_trigger.sql.j2": dict(_TRIGGER),
    "audit/create_update_trigger.sql.j2": dict(_TRIGGER),
    "audit/drop_trigger.sql.j2": {"trigger": None, "table": None},
    "audit/function.sql.j2": {"function": None, "table": None, "hstore": 'hs"x'},
    "audit/statement_function.sql.j2": {
        "function": None,
        "table": None,
        "hstore": 'hs"x',
        "builder": None,
    },
    "audit/bulk_sql.sql.j2": {"function": None, "table": None},
    "audit/create_statement_trigger.sql.j2": {**_TRIGGER, "operation": "UPDATE"},
    "audit/create_extension.sql.j2": {"schema": None},
    "audit/entry_values.sql.j2": {"function": None},
    "audit/entries_view.sql.j2": {"entry": None, "table": None, "view": None},
    "audit/log.sql.j2": {
        "grouped": True,
        "entry": None,
        "ph": {n: "NULL" for n in ("table", "since", "user", "row_id", "limit")},
    },
    "audit/add_row_pks.sql.j2": {"table": None},
    "audit/attach_index.sql.j2": {"index": None, "partition_index": None},
}
