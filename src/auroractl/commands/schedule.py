"""auroractl schedule: recurring jobs with pg_cron (times are UTC/GMT)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context, _defaults
from auroractl.commands import _options as opt

app = opt.group("Recurring jobs with pg_cron: add, list, remove, runs (UTC).")


@contextlib.contextmanager
def _cron() -> Iterator[tuple[object, str]]:
    """(connection to pg_cron's database, the application database name)."""
    from auroractl.ops import schedule as ops

    with _context.connect() as conn:
        cron_db, app_db = ops.cron_database(conn), conn.info.dbname
    with _context.connect(cron_db if cron_db != app_db else None) as cron_conn:
        ops.check_installed(cron_conn)
        yield cron_conn, app_db


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="Job name, e.g. refresh-dashboard.")],
    cron: Annotated[str, typer.Option("--cron", help="5-field cron expression, in UTC.")],
    matview: Annotated[
        str | None,
        typer.Option("--matview", help="Refresh this materialized view (alias or name)."),
    ] = None,
    concurrently: Annotated[
        bool, typer.Option("--concurrently/--plain", help="Refresh CONCURRENTLY (default).")
    ] = True,
    sql_command: Annotated[str | None, typer.Option("--sql", help="Run this SQL instead.")] = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Schedule (or update) a job that runs in this database; shows its next 3 runs.

    pg_cron runs jobs in GMT. On Aurora pg_cron lives in cron.database_name (default
    postgres); jobs are created with cron.schedule_in_database.

    Example:
        auroractl schedule add refresh-dashboard --cron '0 2 * * *' --matview dashboard --yes
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import matview as matview_ops
    from auroractl.ops import schedule

    if (matview is None) == (sql_command is None):
        raise InvalidInput("give --matview or --sql")
    schedule.next_runs(cron)  # validate before connecting
    with _cron() as (cron_conn, app_db):
        if matview:
            section = _defaults.matviews(_context.settings().section("matviews"))
            with _context.connect() as conn:
                view = matview_ops.resolve(conn, matview, matview_ops.specs(section))
            command = schedule.refresh_command(view, concurrently)
        else:
            command = sql_command
        plan = schedule.plan_add(name, cron, command, app_db)
        outcome = _context.apply(cron_conn, plan, dry_run, yes)
    output.result(outcome)


@app.command("list")
def list_(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """List pg_cron jobs with their next 3 run times (UTC).

    Example:
        auroractl schedule list --format json
    """
    from auroractl.ops import schedule

    with _cron() as (cron_conn, _):
        jobs = schedule.list_jobs(cron_conn)
    output.result(jobs, title="pg_cron jobs (times in UTC)")


@app.command()
def remove(
    name: Annotated[str, typer.Argument(help="Job name.")],
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Unschedule a job.

    Example:
        auroractl schedule remove refresh-dashboard --yes
    """
    from auroractl.ops import schedule

    with _cron() as (cron_conn, _):
        plan = schedule.plan_remove(cron_conn, name)
        outcome = _context.apply(cron_conn, plan, dry_run, yes)
    output.result(outcome)


@app.command()
def runs(
    job: Annotated[str | None, typer.Option("--job", help="Only this job.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.")] = 20,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Recent runs from cron.job_run_details: status, duration, errors.

    Example:
        auroractl schedule runs --job refresh-dashboard --limit 5
    """
    from auroractl.ops import schedule

    with _cron() as (cron_conn, _):
        rows = schedule.runs(cron_conn, job, limit)
    output.result(rows, title="pg_cron runs (times in UTC)")
