"""Render contexts for sql_templates/sandbox/: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "sandbox/count.sql.j2": {"table": None},
    "sandbox/roles.sql.j2": {"existing": set(), "admin": None},
    "sandbox/data.sql.j2": {
        "empresas": 2,
        "escolas": 3,
        "alunos": 4,
        "professores": 5,
        "usuarios": 6,
        "ai_preferences": 7,
        "contratos": 8,
        "contratos_default": 9,
        "current_year": 2026,
        "days_elapsed": 300,
    },
}
MULTI_STATEMENT = {"sandbox/roles.sql.j2", "sandbox/data.sql.j2"}
CONTEXTS["sandbox/cron.sql.j2"] = {"admin": None}
MULTI_STATEMENT.add("sandbox/cron.sql.j2")
