"""Executes Plans: dry-run, confirmation, transactions, lock_timeout retries, ledger.

Every change auroractl makes goes through ``apply`` so that it is previewable,
confirmed, bounded by ``lock_timeout`` (never queueing DDL behind a long query
and freezing production) and recorded in ``auroractl.operations``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import LockTimeout, Refused

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Step:
    """One statement. ``locks`` names the relations it locks, to name blockers on timeout."""

    sql: str
    params: Any = None
    autocommit: bool = False
    comment: str = ""
    locks: tuple[str, ...] = ()
    txn: str = ""  # consecutive steps with the same label share one transaction


@dataclass(frozen=True)
class Plan:
    command: str
    summary: str
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.steps

    def sql_text(self) -> str:
        return "\n\n".join(s.sql.rstrip(";") + ";" for s in self.steps)

    def sql_hash(self) -> str:
        import hashlib

        return hashlib.sha256(self.sql_text().encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    command: str
    summary: str
    status: str  # applied | dry-run | nothing-to-do
    statements: int
    duration_s: float = 0.0
    lock_retries: int = 0
    ledger_id: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    yes: bool = False
    fmt: str = "table"
    target_label: str = "the database"
    lock_retries: int = 5
    interactive: bool | None = None  # None: ask only when stdin and stderr are TTYs


def groups(plan: Plan) -> Iterator[tuple[bool, tuple[Step, ...]]]:
    """Consecutive transactional steps with the same ``txn`` label share one transaction;
    autocommit steps run alone."""
    batch: list[Step] = []
    for step in plan.steps:
        if batch and (step.autocommit or step.txn != batch[-1].txn):
            yield False, tuple(batch)
            batch = []
        if step.autocommit:
            yield True, (step,)
        else:
            batch.append(step)
    if batch:
        yield False, tuple(batch)


def apply(
    conn: psycopg.Connection,
    plan: Plan,
    opts: Options,
    confirm: Callable[[Plan, str], bool] | None = None,
) -> Outcome:
    """Preview, confirm, execute and record ``plan``. ``conn`` must be in autocommit mode."""
    from auroractl import output

    if plan.empty:
        return Outcome(plan.command, plan.summary, "nothing-to-do", 0, notes=plan.notes)
    if opts.dry_run:
        output.plan(plan, opts.fmt)
        return Outcome(plan.command, plan.summary, "dry-run", len(plan.steps), notes=plan.notes)
    confirm_or_refuse(plan, opts, confirm)

    started = time.monotonic()
    retries = 0
    error: BaseException | None = None
    try:
        with output.status(plan.summary) as show:
            total, done = len(plan.steps), 0
            for autocommit, steps in groups(plan):

                def on_step(i: int, step: Step, base: int = done) -> None:
                    what = step.comment or step.sql.strip().splitlines()[-1][:60]
                    show(f"[{base + i + 1}/{total}] {what}")

                retries += _run_with_retries(conn, steps, autocommit, opts.lock_retries, on_step)
                done += len(steps)
    except BaseException as exc:
        error = exc
        raise
    finally:
        duration = time.monotonic() - started
        ledger_id = record(conn, plan, duration, error)
    return Outcome(
        plan.command,
        plan.summary,
        "applied",
        len(plan.steps),
        duration,
        retries,
        ledger_id,
        plan.notes,
    )


def confirm_or_refuse(
    plan: Plan, opts: Options, confirm: Callable[[Plan, str], bool] | None = None
) -> None:
    """The rule for every change: --yes, or a confirmation on a terminal; without a
    terminal, refuse. Batch jobs that run their own loop call this before starting."""
    from auroractl import output

    if opts.yes:
        return
    interactive = opts.interactive
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if not interactive:
        raise Refused(
            f"refusing to change {opts.target_label} without confirmation: "
            "pass --yes (or --dry-run to preview)"
        )
    if not (confirm or output.confirm_plan)(plan, opts.target_label):
        raise Refused("cancelled: nothing was changed")


def _run_with_retries(
    conn: psycopg.Connection,
    steps: tuple[Step, ...],
    autocommit: bool,
    max_retries: int,
    on_step: Callable[[int, Step], None] = lambda i, s: None,
) -> int:
    """Run a group; on lock timeout roll back, back off and retry. Returns the retry count."""
    import psycopg.errors

    for attempt in range(max_retries + 1):
        try:
            if autocommit:
                on_step(0, steps[0])
                conn.execute(steps[0].sql, steps[0].params)
            else:
                with conn.transaction():
                    for i, step in enumerate(steps):
                        on_step(i, step)
                        conn.execute(step.sql, step.params)
            return attempt
        except psycopg.errors.LockNotAvailable:
            relations = tuple(dict.fromkeys(r for s in steps for r in s.locks))
            if attempt == max_retries:
                raise lock_timeout_error(conn, relations, attempt + 1) from None
            import random

            time.sleep(min(8.0, 0.25 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


@contextlib.contextmanager
def naming_blockers(conn: psycopg.Connection, *relations: str) -> Iterator[None]:
    """Turn a lock wait beyond lock_timeout inside the block into a LockTimeout naming
    the session that holds the lock (on ``relations`` or their partitions)."""
    import psycopg

    try:
        yield
    except psycopg.errors.LockNotAvailable:
        raise lock_timeout_error(conn, relations) from None


def lock_timeout_error(
    conn: psycopg.Connection, relations: tuple[str, ...], attempts: int = 1
) -> LockTimeout:
    """A LockTimeout naming the session that holds a lock on ``relations``."""
    what = ", ".join(relations) or "a relation"
    lock_timeout = conn.execute("SHOW lock_timeout").fetchone()[0]
    msg = f"could not lock {what} within lock_timeout {lock_timeout} after {attempts} attempts"
    rows = []
    if relations:
        with contextlib.suppress(Exception):  # naming the blocker is best effort
            rows = conn.execute(
                templates.load("runner/blockers.sql"), [list(relations)] * 2
            ).fetchall()
        if rows:
            pid, state, query = rows[0]
            msg += f": blocked by pid {pid} ({state}: {' '.join((query or '').split())[:120]})"
    return LockTimeout(msg)


def ensure_ledger(conn: psycopg.Connection) -> None:
    conn.execute(templates.load("runner/ledger.sql"))


def record(
    conn: psycopg.Connection, plan: Plan, duration: float, error: BaseException | None
) -> int | None:
    """Write one ledger row. A ledger that cannot be written never hides the real outcome."""
    import getpass
    import socket

    import psycopg

    from auroractl import __version__, output

    if conn.closed or conn.broken:
        return None
    try:
        os_user = getpass.getuser()
    except Exception:
        os_user = None
    try:
        ensure_ledger(conn)
        row = conn.execute(
            templates.load("runner/record.sql"),
            {
                "command": plan.command,
                "summary": plan.summary,
                "sql_sha256": plan.sql_hash(),
                "statements": len(plan.steps),
                "duration_ms": int(duration * 1000),
                "outcome": "applied" if error is None else "failed",
                "error": " ".join(str(error).split())[:500] if error is not None else None,
                "os_user": os_user,
                "client_host": socket.gethostname(),
                "version": __version__,
            },
        ).fetchone()
        return row[0] if row else None
    except psycopg.Error as exc:
        output.warn(f"ledger not written: {' '.join(str(exc).split())[:200]}")
        return None
