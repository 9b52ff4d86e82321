"""``auroractl health``: one read-only pass over the catalog, sections with OK/WARN/CRIT/UNKNOWN.

Each section costs at most ONE SQL round trip whatever the catalog size (no per-table
queries): catalog-wide questions are answered server-side and aggregated to JSON. The
round trips are counted by :class:`CountingConnection` and reported in ``meta``.

``model`` holds what a report is, ``queries`` the shared reads, ``checks`` the catalog
sections, ``cloudwatch`` section 12, ``serverless`` the pause state (and the report of a
paused cluster, made without connecting) and ``report`` the HTML page.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from auroractl.ops.health import checks
from auroractl.ops.health.model import (
    CRIT,
    DEFAULTS,
    EXIT_CODES,
    OK,
    SECTIONS,
    TITLES,
    UNKNOWN,
    WARN,
    CountingConnection,
    Finding,
    HealthReport,
    Prelude,
    Section,
    TopQuery,
    parse_only,
    thresholds,
    worst,
)
from auroractl.ops.health.queries import BY, prelude, top_queries

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "BY",
    "CRIT",
    "DEFAULTS",
    "EXIT_CODES",
    "OK",
    "SECTIONS",
    "TITLES",
    "UNKNOWN",
    "WARN",
    "Finding",
    "HealthReport",
    "Prelude",
    "Section",
    "TopQuery",
    "parse_only",
    "run",
    "thresholds",
    "top_queries",
    "unreachable",
    "worst",
]


def run(
    conn: psycopg.Connection,
    *,
    target: str,
    only: Iterable[str] = SECTIONS,
    limits: Mapping[str, float] | None = None,
    cloudwatch: Callable[[Mapping[str, float], dt.datetime], Section | None] | None = None,
    serverless: Section | None = None,
) -> HealthReport:
    """Run the chosen sections; a section that fails is UNKNOWN, never the whole report.

    ``cloudwatch`` (when the target names an Aurora cluster) builds section 12 from AWS;
    ``serverless`` is the pause-state section, read from AWS before connecting.
    """
    started = time.monotonic()
    th = dict(limits or DEFAULTS)
    counted = CountingConnection(conn)
    ctx = prelude(counted)
    sections: list[Section] = []
    skipped: list[str] = []
    timings: dict[str, float] = {}
    for name in (n for n in SECTIONS if n in set(only)):
        if name == "serverless":
            if serverless is None:
                skipped.append("serverless: the target names no Aurora cluster (cluster_id)")
            else:
                sections.append(serverless)
            continue
        if name == "cloudwatch":
            section = cloudwatch(th, ctx.checked_at) if cloudwatch else None
            if section is None:
                skipped.append("cloudwatch: the target names no Aurora cluster (cluster_id)")
            else:
                sections.append(section)
            continue
        section_started = time.monotonic()
        sections.append(_section(name, counted, ctx, th))
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


def _section(name: str, conn: CountingConnection, ctx: Prelude, th: Mapping[str, float]) -> Section:
    """One catalog section; a database error makes it UNKNOWN instead of ending the run."""
    import psycopg

    try:
        return checks.CHECKS[name](conn, ctx, th)
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())[:300]
        return Section(name, TITLES[name], UNKNOWN, f"could not check: {message}")


def unreachable(target: str, message: str) -> HealthReport:
    """The report when the database cannot be reached at all: UNKNOWN, exit 3."""
    section = Section("connections", TITLES["connections"], UNKNOWN, f"could not check: {message}")
    return HealthReport(
        UNKNOWN,
        EXIT_CODES[UNKNOWN],
        dt.datetime.now(dt.UTC),
        target,
        (section,),
        {"schema_version": 1, "round_trips": 0, "seconds": 0.0, "skipped": []},
    )
