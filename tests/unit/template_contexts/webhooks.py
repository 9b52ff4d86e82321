"""Render contexts for sql_templates/webhooks/."""

CONTEXTS = {
    "webhooks/create_trigger.sql.j2": {
        "trigger": None,
        "table": None,
        "operation": "delete",
        "event": "x'y",
    },
    "webhooks/drop_trigger.sql.j2": {"trigger": None, "table": None},
}
