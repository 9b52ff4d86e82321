"""Materialized views: the dashboard of requirements 2.2 and any declared in config.

The dashboard's tables and columns come from ``[matviews.dashboard]`` (on the sandbox
the command supplies the demo's); ``create dashboard`` refuses naming what is missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared import state
from auroractl.ops.shared.catalog import SchemaNamed
from auroractl.plan import Job, JobResult, Plan, Progress, Step

if TYPE_CHECKING:
    import psycopg

DASHBOARD = "dashboard"
DASHBOARD_VIEW = "public.mv_dashboard_empresa"
DASHBOARD_KEYS = (
    "name",
    "root",
    "root_key",
    "root_label",
    "tenant_column",
    "count",
    "sum",
)


@dataclass(frozen=True)
class Dashboard:
    """One row per tenant of ``root`` (``root_key`` AS id, ``root_label``), with per
    tenant a count of rows of each ``count`` table and a sum of each ``sum`` column, the
    tables joined on ``tenant_column``."""

    root: str
    root_key: str
    root_label: str
    tenant_column: str
    count: tuple[tuple[str, str], ...]
    sum: tuple[tuple[str, str, str], ...]


DEFAULT_WARN_HOURS = 26.0  # a daily refresh that missed one run
DEFAULT_CRIT_HOURS = 50.0


@dataclass(frozen=True)
class MatviewSpec(SchemaNamed):
    """A view auroractl knows how to create: built-in ``dashboard`` or from config."""

    alias: str
    schema: str
    name: str
    query: str
    unique_key: tuple[str, ...]
    dashboard: Dashboard | None = None  # the query is built from the catalog at plan time


@dataclass(frozen=True)
class MatviewStatus:
    name: str
    populated: bool
    bytes: int
    rows: int
    rows_exact: bool
    has_unique_index: bool
    last_refresh: dt.datetime | None
    last_duration_ms: int | None
    age_hours: float | None
    staleness: str  # OK | WARN | CRIT | NEVER
    scheduled: bool | None  # None: pg_cron not reachable from here


@dataclass(frozen=True)
class RefreshResult:
    matview: str
    concurrently: bool
    duration_ms: int
    row_count: int


def dashboard_spec(body: dict[str, Any]) -> MatviewSpec:
    """``[matviews.dashboard]``, validated."""
    where = f"[matviews.{DASHBOARD}]"
    if not isinstance(body, dict):
        raise InvalidInput(f"{where} must be a table of keys")
    unknown = set(body) - set(DASHBOARD_KEYS)
    if unknown:
        raise InvalidInput(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    missing = [k for k in DASHBOARD_KEYS[1:5] if not isinstance(body.get(k), str) or not body[k]]
    if missing or not (body.get("count") or body.get("sum")):
        raise InvalidInput(
            f"{where} needs root, root_key, root_label, tenant_column and at least one "
            "of count / sum (see `auroractl matview create --help`)"
        )
    count, sums = body.get("count", {}), body.get("sum", {})
    if not isinstance(count, dict) or not isinstance(sums, dict):
        raise InvalidInput(f'{where} count and sum are tables: {{ total = "table" }}')
    if not all("." in str(v) for v in sums.values()):
        raise InvalidInput(f'{where} sum values are "table.column"')
    schema, _, name = str(body.get("name", DASHBOARD_VIEW)).rpartition(".")
    facts = Dashboard(
        body["root"],
        body["root_key"],
        body["root_label"],
        body["tenant_column"],
        tuple((str(k), str(v)) for k, v in count.items()),
        tuple((str(k), *str(v).rsplit(".", 1)) for k, v in sums.items()),  # type: ignore[misc]
    )
    return MatviewSpec(DASHBOARD, schema or "public", name, "", ("id",), facts)


def specs(config: dict[str, Any]) -> dict[str, MatviewSpec]:
    """The dashboard when ``[matviews.dashboard]`` declares it, and ``[matviews.<alias>]``
    entries (name, query_file, unique_key)."""
    out = {}
    for alias, body in config.items():
        if alias == DASHBOARD:
            out[DASHBOARD] = dashboard_spec(body)
            continue
        if not isinstance(body, dict) or not {"name", "query_file", "unique_key"} <= set(body):
            raise InvalidInput(f"[matviews.{alias}] needs name, query_file and unique_key")
        schema, _, name = body["name"].rpartition(".")
        path = Path(body["query_file"]).expanduser()
        try:
            query = path.read_text(encoding="utf-8").strip().rstrip(";")
        except OSError as exc:
            raise InvalidInput(f"[matviews.{alias}] query_file: {exc}") from None
        out[alias] = MatviewSpec(alias, schema or "public", name, query, tuple(body["unique_key"]))
    return out


def resolve(conn: psycopg.Connection, name: str, known: dict[str, MatviewSpec]) -> tuple[str, str]:
    """(schema, name) of an existing materialized view given an alias or a (qualified) name."""
    import psycopg

    candidate = known[name].label if name in known else name
    try:
        row = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)",
            [candidate],
        ).fetchone()
    except psycopg.errors.InvalidName:
        row = None
    if not row:
        raise NotFound(
            f'materialized view "{candidate}" does not exist'
            + (f" (create it: auroractl matview create {name})" if name in known else "")
        )
    if row[2] != "m":
        raise Precondition(f'"{row[0]}.{row[1]}" is not a materialized view')
    return (row[0], row[1])


def dashboard_query(conn: psycopg.Connection, d: Dashboard) -> str:
    """The dashboard's SELECT on this database's tables; refuses naming every table or
    column that is missing."""
    from auroractl.ops.shared import catalog

    needs: dict[str, list[str]] = {d.root: [d.root_key, d.root_label]}
    for _, table in d.count:
        needs.setdefault(table, []).append(d.tenant_column)
    for _, table, column in d.sum:
        needs.setdefault(table, []).extend([d.tenant_column, column])
    found: dict[str, tuple[str, str]] = {}
    missing: list[str] = []
    for table, columns in needs.items():
        rel = catalog.lookup(conn, table)
        if rel is None:
            missing.append(f"table {table}")
            continue
        found[table] = (rel.schema, rel.name)
        have = {
            r[0]
            for r in conn.execute(
                templates.load("matview/columns.sql"), {"oid": rel.oid, "columns": columns}
            )
        }
        missing += [f"column {table}.{c}" for c in dict.fromkeys(columns) if c not in have]
    if missing:
        raise Precondition(
            f"[matviews.{DASHBOARD}] names what this database does not have: " + ", ".join(missing)
        )
    aggregates = [{"name": n, "table": found[t], "column": None} for n, t in d.count]
    aggregates += [{"name": n, "table": found[t], "column": c} for n, t, c in d.sum]
    return templates.render(
        "matview/dashboard.sql.j2",
        root=found[d.root],
        root_key=d.root_key,
        root_label=d.root_label,
        tenant_column=d.tenant_column,
        aggregates=aggregates,
    )


def plan_create(conn: psycopg.Connection, spec: MatviewSpec) -> Plan:
    if spec.dashboard is not None:
        spec = replace(spec, query=dashboard_query(conn, spec.dashboard))
    exists = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", [templates.ident(spec.qualified)]
    ).fetchone()[0]
    command = f"matview create {spec.alias}"
    if exists:
        return Plan(command, f"{spec.label} already exists: nothing to do")
    index = f"{spec.name}_key"
    steps = (
        Step(
            templates.render("matview/create.sql.j2", view=spec.qualified, query=spec.query),
            comment="computes the view now (WITH DATA)",
            txn="create",
        ),
        Step(
            templates.render(
                "matview/unique_index.sql.j2",
                index=index,
                view=spec.qualified,
                columns=list(spec.unique_key),
            ),
            txn="create",
        ),
    )
    return Plan(
        command, f"create {spec.label} with unique index on ({', '.join(spec.unique_key)})", steps
    )


def plan_refresh(conn: psycopg.Connection, view: tuple[str, str], concurrently: bool) -> Plan:
    label = f"{view[0]}.{view[1]}"
    if concurrently:
        st = next(r for r in _catalog(conn) if r["name"] == label)
        if not st["ispopulated"]:
            raise Precondition(
                f"{label} was never populated: REFRESH CONCURRENTLY needs a "
                "first plain refresh (run without --concurrently)"
            )
        if not st["has_unique_index"]:
            raise Precondition(
                f"{label} has no unique index on plain columns covering all "
                "rows, which REFRESH CONCURRENTLY needs"
            )
    sql = templates.render("matview/refresh.sql.j2", view=view, concurrently=concurrently)
    note = (
        "readers keep reading the old contents meanwhile"
        if concurrently
        else "readers of the view wait until it finishes"
    )
    return Plan(
        f"matview refresh {label}" + (" --concurrently" if concurrently else ""),
        f"refresh {label}",
        (Step(sql, comment=note, locks=(label,)),),
    )


def refresh_job(
    conn: psycopg.Connection, views: list[tuple[str, str]], concurrently: bool, command: str
) -> Job | Plan:
    """Refresh ``views`` one after the other, each logged with its rows and time in
    auroractl.matview_refreshes. Preconditions (CONCURRENTLY needs a populated view with
    a unique index) are checked for every view before the first refresh."""
    import time

    from auroractl.ops.shared import locks

    if not views:
        return Plan(command, "no materialized view to refresh: nothing to do")
    plans = [plan_refresh(conn, view, concurrently) for view in views]
    what = f"{views[0][0]}.{views[0][1]}" if len(views) == 1 else f"{len(views)} views"
    summary = f"refresh {what}" + (" concurrently" if concurrently else "")
    steps = tuple(step for p in plans for step in p.steps)

    def run(progress: Progress) -> JobResult:
        progress.start(len(views))
        done = []
        for view, p in zip(views, plans, strict=True):
            started, clock = dt.datetime.now(dt.UTC), time.monotonic()
            with locks.naming_blockers(conn, *p.steps[0].locks):
                conn.execute(p.steps[0].sql)
            done.append(record_refresh(conn, view, concurrently, started, time.monotonic() - clock))
            progress.advance(1)
        return JobResult(sum(r.row_count for r in done), tuple(done))

    return Job(command, summary, Plan(command, summary, steps), run, unit="views")


def record_refresh(
    conn: psycopg.Connection,
    view: tuple[str, str],
    concurrently: bool,
    started_at: dt.datetime,
    duration_s: float,
) -> RefreshResult:
    """Count the refreshed rows and log the refresh in auroractl.matview_refreshes."""
    label = f"{view[0]}.{view[1]}"
    rows = conn.execute(templates.render("matview/count.sql.j2", view=view)).fetchone()[0]
    state.ensure(conn)
    result = RefreshResult(label, concurrently, int(duration_s * 1000), rows)
    conn.execute(
        templates.load("matview/log_refresh.sql"),
        {
            "matview": label,
            "started_at": started_at,
            "duration_ms": result.duration_ms,
            "row_count": rows,
            "concurrent": concurrently,
        },
    )
    return result


def _catalog(conn: psycopg.Connection) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(templates.load("matview/status.sql")).fetchall()


def all_views(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return [(r["schemaname"], r["matviewname"]) for r in _catalog(conn)]


def status(
    conn: psycopg.Connection, config: dict[str, Any], scheduled_commands: list[str] | None
) -> list[MatviewStatus]:
    """Every materialized view; ``scheduled_commands`` are pg_cron job commands (or None)."""
    warn = float(config.get("warn_after_hours", DEFAULT_WARN_HOURS))
    crit = float(config.get("crit_after_hours", DEFAULT_CRIT_HOURS))
    last: dict[str, tuple] = {}
    if state.readable(conn):
        last = {r[0]: r for r in conn.execute(templates.load("matview/last_refreshes.sql"))}
    now = conn.execute("SELECT now()").fetchone()[0]
    out = []
    for r in _catalog(conn):
        logged = last.get(r["name"])
        age = (now - logged[1]).total_seconds() / 3600 if logged else None
        staleness = (
            "NEVER" if age is None else "CRIT" if age >= crit else "WARN" if age >= warn else "OK"
        )
        scheduled = (
            None
            if scheduled_commands is None
            else any(r["matviewname"] in cmd for cmd in scheduled_commands)
        )
        out.append(
            MatviewStatus(
                r["name"],
                r["ispopulated"],
                r["bytes"],
                logged[3] if logged else r["rows_estimate"],
                logged is not None,
                r["has_unique_index"],
                logged[1] if logged else None,
                logged[2] if logged else None,
                None if age is None else round(age, 2),
                staleness,
                scheduled,
            )
        )
    return out


def plan_drop(conn: psycopg.Connection, view: tuple[str, str]) -> Plan:
    label = f"{view[0]}.{view[1]}"
    return Plan(
        f"matview drop {label}",
        f"drop {label}",
        (Step(templates.render("matview/drop.sql.j2", view=view), locks=(label,)),),
    )
