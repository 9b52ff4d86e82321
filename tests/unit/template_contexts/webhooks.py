"""Render contexts for sql_templates/webhooks/."""

CONTEXTS = {
    "webhooks/create_trigger.sql.j2": {
        "trigger": None,
        "table": None,
        "operations": ["insert", "update"],
        "event": "x'y",
    },
}
