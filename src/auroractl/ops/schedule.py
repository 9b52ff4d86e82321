"""Recurring jobs with pg_cron (requirements 2.2: refresh the dashboard at 02:00)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

CRONTAB_ALTERNATIVE = (
    "without pg_cron, schedule from crontab (UTC): "
    "`0 2 * * * auroractl matview refresh dashboard --concurrently`"
)
NOT_PRELOADED = (
    "pg_cron is not loaded on this server. On Aurora: add pg_cron to "
    "shared_preload_libraries in the DB cluster parameter group (`auroractl params`), "
    "reboot the writer instance, then CREATE EXTENSION pg_cron in the database named by "
    "cron.database_name (default postgres). On PostgreSQL: shared_preload_libraries = "
    "'pg_cron' and cron.database_name in postgresql.conf, restart, CREATE EXTENSION pg_cron"
)


@dataclass(frozen=True)
class Job:
    jobid: int
    name: str | None
    schedule: str
    command: str
    database: str
    username: str
    active: bool
    next_runs_utc: tuple[dt.datetime, ...] = ()


@dataclass(frozen=True)
class JobRun:
    jobid: int
    job: str | None
    runid: int
    status: str | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    duration_s: float | None
    message: str | None


def cron_database(conn: psycopg.Connection) -> str:
    """The database pg_cron lives in (cron.database_name), or a clear error."""
    name = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0]
    if not name:
        raise Precondition(NOT_PRELOADED, hint=CRONTAB_ALTERNATIVE)
    return name


def check_installed(cron_conn: psycopg.Connection) -> None:
    installed = cron_conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone()
    if not installed:
        db = cron_conn.info.dbname
        raise Precondition(
            f"pg_cron is loaded but not created in database {db}: "
            f"run CREATE EXTENSION pg_cron there",
            hint=CRONTAB_ALTERNATIVE,
        )


def next_runs(
    expression: str, count: int = 3, now: dt.datetime | None = None
) -> tuple[dt.datetime, ...]:
    """Validate a cron expression; its next runs in UTC (pg_cron runs jobs in GMT)."""
    from croniter import CroniterBadDateError, croniter

    now = now or dt.datetime.now(dt.UTC)
    expression = expression.strip()
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise InvalidInput(
            f"--cron {expression!r} is not a 5-field cron expression "
            "(minute hour day month weekday), e.g. '0 2 * * *'"
        )
    it = croniter(expression, now)
    try:
        return tuple(it.get_next(dt.datetime) for _ in range(count))
    except CroniterBadDateError:  # e.g. '0 2 31 2 *': February never has a 31st
        raise InvalidInput(
            f"--cron {expression!r} never fires: that day of the month never comes in "
            "the month(s) given"
        ) from None


def refresh_command(view: tuple[str, str], concurrently: bool) -> str:
    return templates.render("matview/refresh.sql.j2", view=view, concurrently=concurrently)


def plan_add(name: str, expression: str, command: str, database: str) -> Plan:
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", name):
        raise InvalidInput(f"job name {name!r}: use letters, digits and _ . : - (max 64)")
    runs = next_runs(expression)
    step = Step(
        templates.load("schedule/add.sql").strip(),
        comment=f"runs in {database}",
        params={"name": name, "schedule": expression, "command": command, "database": database},
    )
    return Plan(
        f"schedule add {name}",
        f"schedule {name} at '{expression}' (UTC; next: "
        f"{', '.join(r.strftime('%Y-%m-%d %H:%M') for r in runs)}): {command}",
        (step,),
    )


def list_jobs(cron_conn: psycopg.Connection) -> list[Job]:
    jobs = []
    for row in cron_conn.execute(templates.load("schedule/jobs.sql")):
        try:
            upcoming = next_runs(row[2])
        except InvalidInput:
            upcoming = ()
        jobs.append(Job(*row, next_runs_utc=upcoming))
    return jobs


def plan_remove(cron_conn: psycopg.Connection, name: str) -> Plan:
    if not any(j.name == name for j in list_jobs(cron_conn)):
        raise NotFound(f"no pg_cron job named {name!r}")
    return Plan(
        f"schedule remove {name}",
        f"unschedule {name}",
        (Step(templates.load("schedule/remove.sql").strip(), params={"name": name}),),
    )


def runs(cron_conn: psycopg.Connection, job: str | None, limit: int) -> list[JobRun]:
    if limit < 1:
        raise InvalidInput(f"--limit {limit} must be at least 1")
    rows = cron_conn.execute(templates.load("schedule/runs.sql"), {"job": job, "limit": limit})
    return [JobRun(*r) for r in rows]
