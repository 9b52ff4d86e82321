"""What both backends share: the advisory lock, the history row, the testing hook and
the connection parameters of further sessions like the source's."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.restore_test.model import (
    RestoreTestReport,
    RestoreTestRow,
    Started,
    error_report,
)
from auroractl.ops.shared import state

if TYPE_CHECKING:
    import psycopg

LOCK_KEY = 7_262_837_351_042_001  # pg_try_advisory_lock key shared by every restore test
HOOK_ENV = "AURORACTL_RESTORE_TEST_HOOK_SQL"  # testing aid: SQL run in the copy before verifying


@contextlib.contextmanager
def restore_test_lock(conn: psycopg.Connection) -> Iterator[None]:
    """A session advisory lock on the source: two restore tests never overlap."""
    if not conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
        raise Precondition(
            "another restore test is running against this database (advisory lock held)"
        )
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            with contextlib.suppress(Exception):  # the session ends anyway: the lock goes
                conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def recorded(
    conn: psycopg.Connection, run: Started, body: Callable[[], RestoreTestReport]
) -> RestoreTestReport:
    """Run ``body`` under the lock and record its report, or an error row if it raised
    (Ctrl-C and SIGTERM included); the exception then propagates."""
    with restore_test_lock(conn):
        state.ensure(conn)
        try:
            report = body()
        except BaseException as exc:
            with contextlib.suppress(Exception):  # the original error matters more
                record(conn, error_report(run, exc))
            raise
        return dataclasses.replace(report, id=record(conn, report))


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def record(conn: psycopg.Connection, report: RestoreTestReport) -> int | None:
    """Append the run to the restore-test history; returns its id."""
    import getpass
    import socket

    from psycopg.types.json import Jsonb

    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the row is still written
        os_user = None
    row = conn.execute(
        templates.load("restore_test/record.sql"),
        {
            "started_at": report.requested_at,
            "backend": report.backend,
            "source": report.source,
            "restored": report.restored,
            "outcome": report.outcome,
            "rto_s": report.rto_s,
            "rpo_s": report.rpo_s,
            "checks_failed": len(report.failed_checks),
            "error": report.error,
            "os_user": os_user,
            "client_host": socket.gethostname(),
            "report": Jsonb(
                dataclasses.asdict(report),
                dumps=lambda obj: json.dumps(obj, default=_json_default),
            ),
        },
    ).fetchone()
    return row[0] if row else None


def history(conn: psycopg.Connection, limit: int = 20) -> list[RestoreTestRow]:
    if limit < 1:
        raise InvalidInput(f"--limit {limit} must be at least 1")
    if not state.readable(conn):  # auroractl's state not installed: nothing recorded
        return []
    rows = conn.execute(templates.load("restore_test/history.sql"), {"limit": limit})
    return [RestoreTestRow(*r) for r in rows.fetchall()]


def run_hook(conn: psycopg.Connection) -> None:
    """Testing aid: ``AURORACTL_RESTORE_TEST_HOOK_SQL`` runs in the copy before verifying."""
    sql = os.environ.get(HOOK_ENV)
    if sql:
        conn.execute(sql)


def connection_kwargs(conn: psycopg.Connection) -> dict[str, Any]:
    """Parameters to open more connections like ``conn`` (password included, in memory)."""
    params: dict[str, Any] = dict(conn.info.get_parameters())
    if conn.info.password:
        params["password"] = conn.info.password
    return params
