"""Render contexts for sql_templates/health/: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "health/top_queries.sql.j2": {"schema": None, "limit": 10, "query_chars": 200},
}
