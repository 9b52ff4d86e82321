"""auroractl matview: materialized dashboards, refreshed safely and on schedule."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Materialized views: create, refresh (optionally CONCURRENTLY), status, drop.")

NameArg = Annotated[str, typer.Argument(help="`dashboard`, a [matviews] alias, or a view name.")]


def _specs():  # type: ignore[no-untyped-def]
    from auroractl.commands import _defaults
    from auroractl.ops import matview as ops

    return ops.specs(_defaults.matviews(_context.settings().section("matviews")))


@app.command()
def create(
    name: NameArg = "dashboard",
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create a known materialized view and the unique index CONCURRENTLY refresh needs.

    `dashboard` is one row per tenant with counts and sums of the tables that carry the
    tenant column, aggregating each table before joining. Its tables and columns come
    from [matviews.dashboard] in auroractl.toml (root, root_key, root_label,
    tenant_column, count, sum; name for the view); exit 2 without it, except on the local
    sandbox, where the demo's apply (mv_dashboard_empresa: id, nome, total_escolas,
    total_alunos, receita_total). A table or column that is missing: refused (exit 3).

    Example:
        auroractl matview create dashboard --yes
    """
    from auroractl.errors import InvalidInput, NotFound
    from auroractl.ops import matview as ops

    known = _specs()
    if name == ops.DASHBOARD and name not in known:
        raise InvalidInput(
            f"give [matviews.{name}] in auroractl.toml (root, root_key, root_label, "
            "tenant_column, count, sum): the demo's applies only on the local sandbox"
        )
    if name not in known:
        raise NotFound(
            f"no matview definition named {name!r} (known: {', '.join(known)}); "
            "declare it under [matviews.NAME] in auroractl.toml"
        )
    with _context.connect() as conn:
        plan = ops.plan_create(conn, known[name])
        outcome = _context.apply(conn, plan, dry_run, yes)
    output.result(outcome)


@app.command()
def refresh(
    name: Annotated[str | None, typer.Argument(help="View (or alias); omit with --all.")] = None,
    all_views: Annotated[bool, typer.Option("--all", help="Every materialized view.")] = False,
    concurrently: Annotated[
        bool, typer.Option("--concurrently", help="Readers keep reading during the refresh.")
    ] = False,
    publish_redis: Annotated[
        str | None,
        typer.Option(
            "--publish-redis",
            help="Then publish the dashboard to this Redis URL.",
            envvar="AURORACTL_REDIS_URL",
        ),
    ] = None,
    ttl: Annotated[int | None, typer.Option("--ttl", help="Redis key TTL in seconds.")] = None,
    dry_run: opt.DryRunOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Refresh materialized views under lock and statement timeouts, logging rows and time.

    Refreshing recomputes derived data only, so it asks no confirmation (cron-friendly);
    each run is one ledger row with the rows refreshed.

    Example:
        auroractl matview refresh dashboard --concurrently --publish-redis redis://cache:6379/0
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import cache
    from auroractl.ops import matview as ops

    if bool(name) == all_views:
        raise InvalidInput("give a view name or --all")
    cache.check_ttl(ttl)
    if publish_redis is not None:  # before the refresh commits, not after
        cache.check_publish(publish_redis, ttl, "--publish-redis")
    elif ttl is not None:
        raise InvalidInput("--ttl is the Redis keys' TTL: it needs --publish-redis")
    known = _specs()
    command = f"matview refresh {name or '--all'}" + (" --concurrently" if concurrently else "")
    with _context.connect() as conn:
        views = ops.all_views(conn) if all_views else [ops.resolve(conn, name, known)]
        job = ops.refresh_job(conn, views, concurrently, command)
        # Refreshing recomputes derived data: no confirmation (cron), still one ledger row.
        outcome = _context.apply(conn, job, dry_run, True)
        output.result(outcome)
        for r in outcome.result or ():
            output.info(f"  {r.matview}: {r.row_count:,} row(s) in {r.duration_ms:,} ms")
        if publish_redis and outcome.status == "applied":
            view = ops.resolve(conn, "dashboard", known)
            published = cache.publish(
                cache.dashboard_rows(conn, view), publish_redis, ttl, f"{view[0]}.{view[1]}"
            )
            output.info(
                f"Published {published.keys} key(s) to Redis ({published.removed} stale removed)."
            )


@app.command()
def status(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Materialized views: populated, size, rows, unique index, last refresh, staleness, schedule.

    Staleness thresholds: [matview] warn_after_hours (26) and crit_after_hours (50).
    Exits 1 when any view is CRIT.

    Example:
        auroractl matview status --format json
    """
    from auroractl.ops import matview as ops

    with _context.connect() as conn:
        commands = _scheduled_commands(conn)
        rows = ops.status(conn, _context.settings().section("matview"), commands)
    output.result(rows)
    if any(r.staleness == "CRIT" for r in rows):
        raise typer.Exit(1)


def _scheduled_commands(conn) -> list[str] | None:  # type: ignore[no-untyped-def]
    """pg_cron job commands targeting this database, or None when pg_cron is unreachable."""
    import psycopg

    from auroractl.errors import AuroraCtlError
    from auroractl.ops import schedule

    try:
        cron_db = schedule.cron_database(conn)
        here = conn.info.dbname
        with _context.connect(cron_db if cron_db != here else None) as cron_conn:
            return [j.command for j in schedule.list_jobs(cron_conn) if j.database == here]
    except (AuroraCtlError, psycopg.Error):
        return None


@app.command()
def drop(
    name: NameArg,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Drop a materialized view (needs --yes or a confirmation on a terminal).

    Example:
        auroractl matview drop dashboard --yes
    """
    from auroractl.ops import matview as ops

    with _context.connect() as conn:
        plan = ops.plan_drop(conn, ops.resolve(conn, name, _specs()))
        outcome = _context.apply(conn, plan, dry_run, yes)
    output.result(outcome)
