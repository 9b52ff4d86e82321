"""``auroractl health``: one read-only pass over the catalog, sections with OK/WARN/CRIT/UNKNOWN.

Each section costs at most ONE SQL round trip whatever the catalog size (no per-table
queries): catalog-wide questions are answered server-side and aggregated to JSON. The
round trips are counted by :class:`CountingConnection` and reported in ``meta``.

The section checks live in ``health_checks``; the HTML report in ``health_report``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition

if TYPE_CHECKING:
    import psycopg

OK, WARN, CRIT, UNKNOWN = "OK", "WARN", "CRIT", "UNKNOWN"
# Nagios plugin exit codes.
EXIT_CODES = {OK: 0, WARN: 1, CRIT: 2, UNKNOWN: 3}
# Problems found outrank "could not check": a CRIT is reported even when a section
# could not run; UNKNOWN only when nothing worse was seen.
_SEVERITY = {OK: 0, UNKNOWN: 1, WARN: 2, CRIT: 3}

SECTIONS = (
    "connections",
    "locks",
    "top_queries",
    "conflicts",
    "cache",
    "vacuum",
    "indexes",
    "sequences",
    "storage",
    "partitions",
    "settings",
    "cloudwatch",
)

# [health] keys of auroractl.toml and their defaults (documented in the README).
DEFAULTS: dict[str, float] = {
    "connections_warn_pct": 80,
    "connections_crit_pct": 95,
    "idle_in_transaction_warn_seconds": 300,
    "idle_in_transaction_crit_seconds": 1800,
    "long_query_seconds": 5,
    "long_query_crit_seconds": 300,
    "long_transaction_warn_seconds": 600,
    "long_transaction_crit_seconds": 3600,
    "lock_wait_warn_seconds": 5,
    "lock_wait_crit_seconds": 60,
    "top_queries_limit": 5,
    "slow_query_mean_ms": 5000,
    "slow_query_min_calls": 10,
    "deadlocks_warn": 1,
    "conflicts_warn": 1,
    "temp_bytes_warn_mb": 10240,
    "cache_hit_warn_pct": 99,
    "cache_hit_crit_pct": 95,
    "cache_min_blocks": 10000,
    "xid_age_warn_pct": 50,
    "xid_age_crit_pct": 75,
    "dead_tuples_min": 10000,
    "dead_tuples_warn_pct": 20,
    "unused_index_min_mb": 10,
    "sequence_warn_pct": 80,
    "sequence_crit_pct": 95,
    "bloat_warn_pct": 50,
    "bloat_min_mb": 100,
    "default_rows_warn": 1,
    "track_activity_query_size_min": 4096,
    "cloudwatch_hours": 3,
    "acu_pinned_pct": 95,
    "acu_pinned_share_pct": 50,
    "query_chars": 200,
}

SETTINGS_READ = (
    "max_connections",
    "superuser_reserved_connections",
    "autovacuum_freeze_max_age",
    "shared_preload_libraries",
    "track_activity_query_size",
    "log_min_duration_statement",
    "block_size",
)

PGSS_HELP = (
    "On Aurora: pg_stat_statements must be in shared_preload_libraries of the DB cluster "
    "parameter group (the default group has it; a custom group needs it added and a "
    "reboot), then run CREATE EXTENSION pg_stat_statements; in this database as the master "
    "user. On plain PostgreSQL: add it to shared_preload_libraries in postgresql.conf (or "
    "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'), restart the server, "
    "then CREATE EXTENSION pg_stat_statements;"
)


@dataclass(frozen=True)
class Finding:
    status: str
    message: str
    object: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    status: str
    summary: str
    findings: tuple[Finding, ...] = ()
    thresholds: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    status: str
    exit_code: int
    checked_at: dt.datetime
    target: str
    sections: tuple[Section, ...]
    meta: dict[str, Any]


@dataclass(frozen=True)
class Prelude:
    """What every section may need, read in the first round trip."""

    database: str
    checked_at: dt.datetime
    today: dt.date
    server_version: str
    own_pid: int
    settings: dict[str, str]
    pgss_schema: str | None

    def setting_int(self, name: str, default: int = 0) -> int:
        try:
            return int(self.settings.get(name, default))
        except (TypeError, ValueError):
            return default


@dataclass(frozen=True)
class TopQuery:
    queryid: int | None
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    pct_total: float | None
    rows_per_call: float
    hit_pct: float | None
    temp_blks_written: int


class CountingConnection:
    """Wraps a psycopg connection and counts ``execute`` calls (= SQL round trips)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.round_trips = 0

    def execute(self, query: str, params: Mapping[str, Any] | None = None):  # type: ignore[no-untyped-def]
        self.round_trips += 1
        return self.conn.execute(query, params)


# ---------------------------------------------------------------- thresholds


def thresholds(raw: Mapping[str, Any] | None) -> dict[str, float]:
    """Defaults overlaid with ``[health]``; unknown keys and non-numbers are input errors."""
    values = dict(DEFAULTS)
    for key, value in (raw or {}).items():
        if key not in DEFAULTS:
            raise InvalidInput(
                f"unknown [health] setting {key!r} in auroractl.toml",
                hint="known settings: " + ", ".join(sorted(DEFAULTS)),
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidInput(f"[health] {key} = {value!r} must be a number >= 0")
        values[key] = value
    return values


def parse_only(text: str | None) -> tuple[str, ...]:
    """``--only connections,locks`` -> validated section names (all when empty)."""
    if not text:
        return SECTIONS
    names = tuple(dict.fromkeys(n.strip().replace("-", "_") for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise InvalidInput(
            f"--only: unknown section(s) {', '.join(unknown) or text!r}",
            hint="sections: " + ", ".join(SECTIONS),
        )
    return names


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: _SEVERITY[s], default=OK)


# ---------------------------------------------------------------- run


def prelude(conn: CountingConnection) -> Prelude:
    row = conn.execute(
        templates.load("health/context.sql"), {"settings": list(SETTINGS_READ)}
    ).fetchone()
    database, checked_at, today, version, pid, settings, pgss = row
    return Prelude(database, checked_at, today, version, pid, dict(settings or {}), pgss)


def run(
    conn: psycopg.Connection,
    *,
    target: str,
    only: Iterable[str] = SECTIONS,
    limits: Mapping[str, float] | None = None,
    cloudwatch: Callable[[Mapping[str, float], dt.datetime], Section | None] | None = None,
) -> HealthReport:
    """Run the chosen sections; a section that fails is UNKNOWN, never the whole report.

    ``cloudwatch`` (when the target names an Aurora cluster) builds section 12 from AWS.
    """
    import psycopg

    from auroractl.ops import health_checks as checks

    started = time.monotonic()
    th = dict(limits or DEFAULTS)
    counted = CountingConnection(conn)
    ctx = prelude(counted)
    wanted = [n for n in SECTIONS if n in set(only)]
    sections: list[Section] = []
    skipped: list[str] = []
    timings: dict[str, float] = {}
    for name in wanted:
        if name == "cloudwatch":
            section = cloudwatch(th, ctx.checked_at) if cloudwatch else None
            if section is None:
                skipped.append("cloudwatch: the target names no Aurora cluster (cluster_id)")
                continue
            sections.append(section)
            continue
        check = checks.CHECKS[name]
        section_started = time.monotonic()
        try:
            sections.append(check(counted, ctx, th))
        except psycopg.Error as exc:
            sections.append(
                Section(
                    name,
                    checks.TITLES[name],
                    UNKNOWN,
                    f"could not check: {' '.join(str(exc).split())[:300]}",
                )
            )
        timings[name] = round(time.monotonic() - section_started, 3)
    status = worst(s.status for s in sections)
    return HealthReport(
        status=status,
        exit_code=EXIT_CODES[status],
        checked_at=ctx.checked_at,
        target=target,
        sections=tuple(sections),
        meta={
            "schema_version": 1,
            "round_trips": counted.round_trips,
            "seconds": round(time.monotonic() - started, 3),
            "database": ctx.database,
            "server_version": ctx.server_version,
            "section_seconds": timings,
            "skipped": skipped,
        },
    )


def unreachable(target: str, message: str) -> HealthReport:
    """The report when the database cannot be reached at all: UNKNOWN, exit 3."""
    section = Section("connections", "Connections", UNKNOWN, f"could not check: {message}")
    return HealthReport(
        UNKNOWN,
        EXIT_CODES[UNKNOWN],
        dt.datetime.now(dt.UTC),
        target,
        (section,),
        {"schema_version": 1, "round_trips": 0, "seconds": 0.0, "skipped": []},
    )


# ---------------------------------------------------------------- top queries


BY = ("total", "mean", "calls")


def fetch_top_queries(
    conn: CountingConnection | psycopg.Connection, schema: str, limit: int, query_chars: int
) -> tuple[list[tuple], float, int]:
    """Rows ranked by total, mean and calls (one round trip); db total ms; statements."""
    sql = templates.render(
        "health/top_queries.sql.j2", schema=schema, limit=int(limit), query_chars=int(query_chars)
    )
    rows = conn.execute(sql).fetchall()
    total = float(rows[0][12] or 0) if rows else 0.0
    statements = int(rows[0][13] or 0) if rows else 0
    return [r for r in rows if r[9] is not None], total, statements


def ranked(rows: list[tuple], by: str, limit: int) -> list[TopQuery]:
    index = {"total": 9, "mean": 10, "calls": 11}[by]
    chosen = sorted(
        (r for r in rows if r[index] is not None and r[index] <= limit), key=lambda r: r[index]
    )
    return [
        TopQuery(
            queryid=r[0],
            query=r[1],
            calls=int(r[2]),
            total_ms=round(float(r[3]), 3),
            mean_ms=round(float(r[4]), 3),
            pct_total=None if r[5] is None else round(float(r[5]), 2),
            rows_per_call=round(float(r[6]), 2),
            hit_pct=None if r[7] is None else round(float(r[7]), 2),
            temp_blks_written=int(r[8]),
        )
        for r in chosen
    ]


def top_queries(conn: psycopg.Connection, by: str = "total", limit: int = 10) -> list[TopQuery]:
    """Top statements of the current database from pg_stat_statements (never resets them)."""
    import psycopg

    if by not in BY:
        raise InvalidInput(f"--by {by!r} must be one of {', '.join(BY)}")
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"--limit {limit} must be between 1 and 1000")
    counted = CountingConnection(conn)
    ctx = prelude(counted)
    if not ctx.pgss_schema:
        raise Precondition("pg_stat_statements is not installed in this database", hint=PGSS_HELP)
    try:
        rows, _, _ = fetch_top_queries(
            counted, ctx.pgss_schema, limit, int(DEFAULTS["query_chars"])
        )
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        raise Precondition(
            f"pg_stat_statements: {' '.join(str(exc).split())}", hint=PGSS_HELP
        ) from None
    return ranked(rows, by, limit)
