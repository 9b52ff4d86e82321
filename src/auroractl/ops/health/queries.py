"""The reads every section shares: the prelude round trip and pg_stat_statements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.health.model import (
    DEFAULTS,
    PGSS_HELP,
    SETTINGS_READ,
    CountingConnection,
    Prelude,
    TopQuery,
)

if TYPE_CHECKING:
    import psycopg


def prelude(conn: CountingConnection) -> Prelude:
    row = conn.execute(
        templates.load("health/context.sql"), {"settings": list(SETTINGS_READ)}
    ).fetchone()
    database, checked_at, today, version, pid, settings, pgss = row
    return Prelude(database, checked_at, today, version, pid, dict(settings or {}), pgss)


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
