"""The business metrics view of seed 5.1 (``v_metricas_negocio``), built as intended.

The seed's snippet counted "today" in the session's time zone over a full scan, and
averaged ``ultimo_acesso - criado_em`` (time to the LAST access) over every user,
including those who never came back, truncated to an integer. Here:

- "today" is the day in the configured time zone (``[metrics] timezone``, default
  America/Sao_Paulo), whatever the session's TimeZone, as a half-open range
  ``[start, end)`` on the raw columns (index-friendly, no function on the column);
- hours to first access use ``primeiro_acesso`` when the table has it, else
  ``ultimo_acesso`` (the only access time recorded; the command says so); only over
  users who have accessed (NOT NULL, not before creation) and were created in the
  last ``cohort_days`` days, rounded to 0.1 h.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

VIEW = "v_metricas_negocio"
EXPECTED_COLUMNS = (
    "data date",
    "novos_usuarios_hoje bigint",
    "usuarios_ativos_hoje bigint",
    "horas_ate_primeiro_acesso numeric",
)
COMMENT_PREFIX = "auroractl metrics sha256:"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class MetricsConfig:
    schema: str = "public"
    view: str = VIEW
    table: str | None = None  # the users table (criado_em, ultimo_acesso); apply needs it
    timezone: str = "America/Sao_Paulo"
    cohort_days: int = 30


@dataclass(frozen=True)
class BusinessMetrics:
    data: dt.date
    novos_usuarios_hoje: int
    usuarios_ativos_hoje: int
    horas_ate_primeiro_acesso: float | None


def config(section: Mapping[str, Any]) -> MetricsConfig:
    """``[metrics]`` of auroractl.toml, validated."""
    known = {"schema", "view", "table", "timezone", "cohort_days"}
    unknown = set(section) - known
    if unknown:
        raise InvalidInput(f"[metrics] has unknown keys: {', '.join(sorted(unknown))}")
    cfg = MetricsConfig(**section)
    for key in ("schema", "view", "table"):
        value = getattr(cfg, key)
        if key == "table" and value is None:
            continue
        if not isinstance(value, str) or not _NAME.match(value):
            raise InvalidInput(f"[metrics] {key} = {value!r} is not a plain identifier")
    if not isinstance(cfg.cohort_days, int) or not 1 <= cfg.cohort_days <= 3650:
        raise InvalidInput(f"[metrics] cohort_days = {cfg.cohort_days!r} must be 1-3650")
    if not isinstance(cfg.timezone, str) or not cfg.timezone:
        raise InvalidInput("[metrics] timezone must be a time zone name")
    return cfg


def _relation(conn: psycopg.Connection, schema: str, name: str) -> tuple[str, str | None, list]:
    row = conn.execute(
        templates.load("metrics/relation.sql"), {"schema": schema, "name": name}
    ).fetchone()
    return (row[0], row[1], list(row[2] or [])) if row else ("", None, [])


def plan(conn: psycopg.Connection, cfg: MetricsConfig) -> Plan:
    """CREATE OR REPLACE VIEW (DROP + CREATE when an old definition has other column types),
    marked with a hash of its SQL so that re-running is a no-op."""
    if cfg.table is None:
        raise InvalidInput("give [metrics] table: the users table the view counts")
    kind, _, columns = _relation(conn, cfg.schema, cfg.table)
    if kind not in ("r", "p", "v", "m", "f"):
        raise NotFound(f'table "{cfg.schema}.{cfg.table}" does not exist')
    names = {c.split(" ", 1)[0] for c in columns}
    missing = {"criado_em", "ultimo_acesso"} - names
    if missing:
        raise Precondition(
            f"{cfg.schema}.{cfg.table} lacks column(s): {', '.join(sorted(missing))}"
        )
    if (
        conn.execute(
            "SELECT count(*) FROM pg_timezone_names WHERE name = %s", [cfg.timezone]
        ).fetchone()[0]
        == 0
    ):
        raise InvalidInput(f"[metrics] timezone {cfg.timezone!r} is not a known time zone")
    first_access = "primeiro_acesso" if "primeiro_acesso" in names else "ultimo_acesso"
    view = (cfg.schema, cfg.view)
    create = templates.render(
        "metrics/apply.sql.j2",
        view=view,
        table=(cfg.schema, cfg.table),
        first_access=first_access,
        timezone=cfg.timezone,
        cohort_days=cfg.cohort_days,
    )
    digest = hashlib.sha256(create.encode()).hexdigest()
    comment = (
        f"{COMMENT_PREFIX}{digest} business metrics of seed 5.1: today in {cfg.timezone}; "
        f"hours to first access from {first_access}, users created in the last "
        f"{cfg.cohort_days} days who have accessed"
    )
    notes = []
    if first_access == "ultimo_acesso":
        notes.append(
            f"{cfg.table} has no primeiro_acesso column: hours to first access are measured "
            "to ultimo_acesso (the only access time recorded)"
        )
    vkind, vcomment, vcolumns = _relation(conn, cfg.schema, cfg.view)
    if vkind and vkind != "v":
        raise Precondition(f'"{cfg.schema}.{cfg.view}" exists and is not a view')
    if vkind == "v" and (vcomment or "").startswith(COMMENT_PREFIX + digest):
        return Plan(
            "metrics apply", f"view {cfg.schema}.{cfg.view} is up to date", (), tuple(notes)
        )
    steps = []
    if vkind == "v" and tuple(vcolumns) != EXPECTED_COLUMNS:
        notes.append(
            f"{cfg.schema}.{cfg.view} has other columns ({', '.join(vcolumns)}): it is dropped "
            "and re-created in the same transaction"
        )
        steps.append(
            Step(
                templates.render("metrics/drop.sql.j2", view=view),
                locks=(f"{cfg.schema}.{cfg.view}",),
            )
        )
    steps.append(Step(create, comment="business metrics view", locks=(f"{cfg.schema}.{cfg.view}",)))
    steps.append(Step(templates.render("metrics/comment.sql.j2", view=view, comment=comment)))
    verb = "replace" if vkind else "create"
    return Plan("metrics apply", f"{verb} view {cfg.schema}.{cfg.view}", tuple(steps), tuple(notes))


def show(conn: psycopg.Connection, cfg: MetricsConfig) -> BusinessMetrics:
    kind, _, _ = _relation(conn, cfg.schema, cfg.view)
    if kind != "v":
        raise Precondition(
            f'view "{cfg.schema}.{cfg.view}" does not exist',
            hint="create it with: auroractl metrics apply",
        )
    row = conn.execute(
        templates.render("metrics/show.sql.j2", view=(cfg.schema, cfg.view))
    ).fetchone()
    hours = row[3]
    return BusinessMetrics(
        data=row[0],
        novos_usuarios_hoje=int(row[1]),
        usuarios_ativos_hoje=int(row[2]),
        horas_ate_primeiro_acesso=float(hours) if isinstance(hours, decimal.Decimal) else hours,
    )
