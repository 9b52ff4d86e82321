"""Render contexts for sql_templates/migrations/: ``t`` maps tables to hostile names."""

from pathlib import Path

HOSTILE_T = {
    name: ("x; drop table y", f'{name}"; select 1; --')
    for name in ("usuarios", "alunos", "escolas", "empresas", "professores", "contratos")
}

_DIR = Path(__file__).resolve().parents[3] / "sql_templates" / "migrations"
NAMES = sorted(f"migrations/{p.name}" for p in _DIR.glob("*.sql.j2"))

CONTEXTS = {name: {"schema": None, "t": HOSTILE_T} for name in NAMES}
MULTI_STATEMENT = set(NAMES)
