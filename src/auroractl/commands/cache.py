"""auroractl cache: what to cache, and the dashboard published to Redis / ElastiCache."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context, _defaults
from auroractl.commands import _options as opt

TABLE_COLUMNS = ("calls", "total_ms", "mean_ms", "hit_ratio", "tables", "table_writes", "query")

app = opt.group("Query-cache candidates from pg_stat_statements; publish dashboards to Redis.")


@app.command()
def candidates(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many statements.")] = 20,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Read-only statements ranked by database time a cache would save (calls x mean).

    Shows buffer hit ratio, the tables each reads and how often those change.

    Example:
        auroractl cache candidates --limit 10 --format json
    """
    from auroractl.ops import cache

    with _context.connect() as conn:
        rows = cache.candidates(conn, limit)
    output.result(rows, table=lambda: output.render(rows, "table", columns=TABLE_COLUMNS))


@app.command()
def publish(
    name: Annotated[str, typer.Argument(help="Only `dashboard` for now.")] = "dashboard",
    redis_url: Annotated[
        str,
        typer.Option(
            "--redis",
            help="redis://host:6379/0 (password via AURORACTL_REDIS_URL, not argv).",
            envvar="AURORACTL_REDIS_URL",
        ),
    ] = "redis://127.0.0.1:6379/0",
    ttl: Annotated[int | None, typer.Option("--ttl", help="Key TTL in seconds.")] = None,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Write each empresa's dashboard row to Redis as `dashboard:empresa:<id>` (JSON),
    replacing the previous set atomically. Only derived data is written (no --yes).

    Example:
        auroractl cache publish dashboard --redis redis://127.0.0.1:6379/0 --ttl 86400
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import cache, matview

    if name != "dashboard":
        raise InvalidInput("only the dashboard can be published for now")
    cache.check_publish(redis_url, ttl)  # before connecting
    known = matview.specs(_defaults.matviews(_context.settings().section("matviews")))
    with _context.connect() as conn:
        view = matview.resolve(conn, name, known)
        result = cache.publish(
            cache.dashboard_rows(conn, view), redis_url, ttl, f"{view[0]}.{view[1]}"
        )
    output.result(result)
