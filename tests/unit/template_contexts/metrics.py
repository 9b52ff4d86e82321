"""Render contexts for sql_templates/metrics/: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "metrics/apply.sql.j2": {
        "view": None,
        "table": None,
        "first_access": "primeiro_acesso",
        "timezone": "America/Sao_Paulo'--",
        "cohort_days": 30,
    },
    "metrics/drop.sql.j2": {"view": None},
    "metrics/comment.sql.j2": {"view": None, "comment": "auroractl it's"},
    "metrics/show.sql.j2": {"view": None},
}
