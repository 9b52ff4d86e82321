"""Executes changes: dry-run preview, confirmation, lock_timeout retries, progress, ledger.

Every change auroractl makes, of any kind (``plan.Plan``, ``plan.Job``,
``plan.AwsAction``), goes through ``apply`` so that it is previewable, confirmed,
bounded by ``lock_timeout`` (never queueing DDL behind a long query and freezing
production) and recorded in one ledger row. ``apply`` prints nothing but
confirmation prompts and progress (stderr): the command prints the Outcome.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import output
from auroractl.errors import STEP_ATTRIBUTE, Interrupted, Refused
from auroractl.ledger import DatabaseLedger, Entry, FileLedger, Ledger
from auroractl.ops.shared import locks
from auroractl.plan import AwsAction, Change, Job, JobResult, Outcome, Plan, Step

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    yes: bool = False
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
    conn: psycopg.Connection | None,
    change: Change,
    opts: Options,
    confirm: Callable[[Change, str], bool] | None = None,
    ledger: Ledger | None = None,
) -> Outcome:
    """Preview, confirm, execute and record ``change``.

    ``conn`` (autocommit) runs Plans and a Job's ``prepare`` and holds the ledger; an
    AwsAction without one is recorded in the local ledger file."""
    base = _outcome_base(change)
    if change.empty:
        return Outcome(**base, status="nothing-to-do")
    if opts.dry_run:
        return Outcome(**base, status="dry-run", preview=change.preview())
    confirm_or_refuse(change, opts, confirm)
    if ledger is None:
        ledger = DatabaseLedger(conn) if conn is not None else FileLedger()
    started = time.monotonic()
    retries, result, error = 0, None, None
    try:
        with _sigterm_interrupts():
            if isinstance(change, Plan):
                retries = run_plan(conn, change, opts.lock_retries)
            elif isinstance(change, Job):
                retries, result = _run_job(conn, change, opts.lock_retries)
            else:
                _run_aws(change)
    except BaseException as exc:
        error = exc
        raise
    finally:
        duration = time.monotonic() - started
        ledger_id = ledger.record(_entry(change, duration, error, result))
    return Outcome(
        **base,
        status="incomplete" if result is not None and result.remaining else "applied",
        duration_s=duration,
        lock_retries=retries,
        ledger_id=ledger_id,
        rows=result.rows if result is not None else None,
        result=result.payload if result is not None else None,
    )


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM during a change interrupts it like Ctrl-C does, so that it rolls back and is
    recorded, unless the command handles SIGTERM itself."""
    import signal

    def handler(_signum, _frame):  # type: ignore[no-untyped-def]
        raise Interrupted()

    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            yield
            return
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: signals stay as they are
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _outcome_base(change: Change) -> dict[str, object]:
    aws = isinstance(change, AwsAction)
    return {
        "command": change.command,
        "summary": change.summary,
        "kind": change.kind,
        "statements": change.size,
        "notes": change.notes,
        "resources": change.resources if aws else (),
        "region": change.region if aws else None,
    }


def _entry(
    change: Change, duration: float, error: BaseException | None, result: JobResult | None
) -> Entry:
    aws = isinstance(change, AwsAction)
    return Entry(
        command=change.command,
        summary=change.summary,
        kind=change.kind,
        sha256=change.sql_hash(),
        statements=change.size,
        duration_ms=int(duration * 1000),
        outcome="applied" if error is None else "failed",
        error=_ledger_error(error) if error is not None else None,
        rows=result.rows if result is not None else None,
        resources=change.resources if aws else (),
        region=change.region if aws else None,
    )


def _ledger_error(error: BaseException) -> str:
    """The failure as the ledger keeps it: no values from the data. A database error is its
    SQLSTATE and primary message (its DETAIL may quote a row: "Key (cpf)=(...)"), after
    the step it happened in; an interruption says which signal."""
    diag = getattr(error, "diag", None)
    if isinstance(error, KeyboardInterrupt):
        text = f"interrupted ({getattr(error, 'signal_name', 'SIGINT')})"
    elif diag is not None and diag.message_primary:
        text = f"{diag.sqlstate}: {diag.message_primary}"
    else:
        text = getattr(error, "ledger_text", None) or str(error) or type(error).__name__
    step = getattr(error, STEP_ATTRIBUTE, None)
    return " ".join((f"step {step!r}: {text}" if step else text).split())[:500]


def confirm_or_refuse(
    change: Change, opts: Options, confirm: Callable[[Change, str], bool] | None = None
) -> None:
    """The rule for every change: --yes, or a confirmation on a terminal; without a
    terminal, refuse."""
    if opts.yes:
        return
    label = _target_label(change, opts)
    interactive = opts.interactive
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    if not interactive:
        raise Refused(
            f"refusing to change {label} without confirmation: pass --yes (or --dry-run to preview)"
        )
    if not (confirm or output.confirm_change)(change, label):
        raise Refused("cancelled: nothing was changed")


def _target_label(change: Change, opts: Options) -> str:
    """What the change touches, for people: the database, or the AWS resources."""
    if not isinstance(change, AwsAction):
        return opts.target_label
    shown = ", ".join(change.resources[:3]) + (", ..." if len(change.resources) > 3 else "")
    return f"AWS ({change.region or 'default region'}: {shown})"


def run_plan(conn: psycopg.Connection | None, plan: Plan, lock_retries: int) -> int:
    """Execute a Plan's groups with lock_timeout retries; returns the retry count."""
    if conn is None:
        raise TypeError("a Plan needs a database connection")
    retries = 0
    with output.status(plan.summary) as show:
        total, done = len(plan.steps), 0
        for autocommit, steps in groups(plan):

            def on_step(i: int, step: Step, base: int = done) -> None:
                what = step.comment or step.sql.strip().splitlines()[-1][:60]
                show(f"[{base + i + 1}/{total}] {what}")

            retries += _run_with_retries(conn, steps, autocommit, lock_retries, on_step)
            done += len(steps)
    return retries


def _run_job(conn: psycopg.Connection | None, job: Job, lock_retries: int) -> tuple[int, JobResult]:
    retries = 0
    if job.prepare is not None and not job.prepare.empty:
        retries = run_plan(conn, job.prepare, lock_retries)
    with output.rows_progress(job.summary, unit=job.unit) as progress:
        return retries, job.run(progress)


def _run_aws(action: AwsAction) -> None:
    with output.status(action.summary) as show:
        for i, call in enumerate(action.calls):
            show(f"[{i + 1}/{len(action.calls)}] {call.describe()}")
            call.invoke()


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
        current = steps[0]
        try:
            if autocommit:
                on_step(0, current)
                conn.execute(current.sql, current.params)
            else:
                with conn.transaction():
                    for i, step in enumerate(steps):
                        current = step
                        on_step(i, step)
                        conn.execute(step.sql, step.params)
            return attempt
        except psycopg.errors.LockNotAvailable:
            relations = tuple(dict.fromkeys(r for s in steps for r in s.locks))
            if attempt == max_retries:
                raise locks.lock_timeout_error(conn, relations, attempt + 1) from None
            import random

            time.sleep(min(8.0, 0.25 * 2**attempt) * (0.5 + random.random()))
        except (psycopg.Error, KeyboardInterrupt) as exc:
            # Which step failed (a migration's name, ...): the error line and ledger say it.
            if current.comment and not hasattr(exc, STEP_ATTRIBUTE):
                setattr(exc, STEP_ATTRIBUTE, current.comment)
            raise
    raise AssertionError("unreachable")
