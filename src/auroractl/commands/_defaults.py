"""The demo schema's names, and the one rule for them: they stand in for what a command
was not told only on the local sandbox, which is the demo. Anywhere else the command
refuses in one line naming the option, setting or command that tells it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from auroractl.commands import _context

if TYPE_CHECKING:
    from auroractl.ops.shared.datamap import DataMap

T = TypeVar("T")

# The demo's names (sql_templates/sandbox/schema.sql), used through the helpers below only.
DEMO_PARTITIONED = "contratos"  # partition create/status/detach, partition migrate
DEMO_RANGE_KEY = "data_inicio"  # partition migrate prep --by year|month
DEMO_ENCRYPTED = ("usuarios", "documento_identidade")  # encrypt: table, column
DEMO_USERS = "usuarios"  # metrics apply
DEMO_TENANT = ("empresa_id", "app.current_empresa_id")  # column, setting
DEMO_SCHEMA_SPLIT = {  # [schema_split.schemas]: the demo's domain schemas
    "educacional": ["escolas", "alunos", "professores"],
    "administrativo": ["empresas", "contratos"],
    "autenticacao": ["usuarios", "ai_preferences"],
}
DEMO_DASHBOARD = {  # [matviews.dashboard] as the demo would write it
    "root": "empresas",
    "root_key": "id",
    "root_label": "nome",
    "tenant_column": "empresa_id",
    "count": {"total_escolas": "escolas", "total_alunos": "alunos"},
    "sum": {"receita_total": "contratos.valor_total"},
}


def on_demo() -> bool:
    """Whether this invocation's target is the local sandbox (the demo)."""
    return _context.target().is_sandbox


def demo_default(value: T | None, demo: T, what: str, hint: str | None = None) -> T:
    """``value`` when given; else the demo's on the sandbox; else InvalidInput asking for
    ``what`` (an option or a setting)."""
    from auroractl.errors import InvalidInput

    if value is not None:
        return value
    if on_demo():
        return demo
    raise InvalidInput(
        f"give {what} (the demo's default applies only on the local sandbox)", hint=hint
    )


def table(positional: str | None, option: str | None, demo: str) -> str:
    """The table given positionally or with --table; without one, ``demo`` on the sandbox."""
    from auroractl.commands import _options as opt

    given = opt.table_name(positional, option) if positional or option else None
    return demo_default(given, demo, "the table (an argument or --table)")


def matviews(section: dict[str, Any]) -> dict[str, Any]:
    """[matviews], with the demo's dashboard on the sandbox when it declares none."""
    if "dashboard" in section or not on_demo():
        return section
    return {"dashboard": DEMO_DASHBOARD, **section}


def data_map(alternative: str | None = None) -> DataMap:
    """This database's data map, or Precondition naming `auroractl map propose` (or
    ``alternative``, a setting that also tells the command what it needs). The sandbox
    has one too: `sandbox up` writes it."""
    from auroractl.errors import Precondition

    try:
        return _context.require_data_map()
    except Precondition as exc:
        hint = "auroractl sandbox up writes the sandbox's own map" if on_demo() else exc.hint
        more = f" (or set {alternative})" if alternative else ""
        raise Precondition(f"{exc}{more}", hint=hint) from None
