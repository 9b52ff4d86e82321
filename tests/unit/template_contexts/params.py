"""Render contexts for sql_templates/params/: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "params/alter_system.sql.j2": {"name": None, "values": ["pg_stat_statements", "a'b; x"]},
}
