"""``partition ensure``: every missing period through the current one + ahead, per table.

Each table is planned on its own (``plan_table``), so that one table's problem (a name,
a lock, a gap too wide) is that table's outcome and never stops the others. A table
that would get more than ``max_new`` partitions at once (a gap of years) is refused
until the limit is raised: the daily run passes --yes, so confirmation alone would let
it fill a four-year gap without anyone looking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auroractl.errors import EXIT_DATABASE, AuroraCtlError, InvalidInput, Refused
from auroractl.ops.partition import naming as nm
from auroractl.ops.partition.catalog import parent, range_parents
from auroractl.ops.partition.create import checked, context, create_steps, new_period
from auroractl.ops.partition.model import (
    INTERVALS,
    EnsureReport,
    NewPartition,
    add_period,
    as_date,
    interval_of,
    period_start,
)
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

MAX_AHEAD = 100
DEFAULT_MAX_NEW = 12  # a year of months: more at once is a gap someone should look at


@dataclass(frozen=True)
class Failure:
    """Why a table failed, as the CLI would report it alone."""

    error: str
    exit_code: int
    hint: str | None = None
    over_limit: bool = False  # more partitions at once than --max-new


@dataclass(frozen=True)
class TablePlan:
    """What ``ensure`` does to one table: a plan (empty when covered or skipped)."""

    table: str
    plan: Plan
    created: tuple[NewPartition, ...] = ()
    skipped: str | None = None  # why the table is not one ensure keeps ahead
    failure: Failure | None = None  # why it cannot be planned, or is refused

    @property
    def refused(self) -> bool:
        """Planned, but more partitions at once than --max-new allows."""
        return self.failure is not None and self.failure.over_limit

    @property
    def failed(self) -> bool:
        """Could not be planned at all."""
        return self.failure is not None and not self.refused


@dataclass(frozen=True)
class TableOutcome:
    table: str
    status: str  # applied | nothing-to-do | skipped | failed | dry-run
    created: tuple[str, ...] = ()
    ledger_id: int | str | None = None
    notes: tuple[str, ...] = ()
    error: str | None = None
    exit_code: int | None = None
    hint: str | None = None


@dataclass(frozen=True)
class EnsureRun:
    """The report of one ``ensure``: every table's outcome."""

    command: str
    status: str  # applied | nothing-to-do | incomplete (some table failed) | dry-run
    tables: tuple[TableOutcome, ...] = field(default_factory=tuple)
    ledger_id: int | str | None = None  # the last ledger row written

    @property
    def failed(self) -> list[TableOutcome]:
        return [t for t in self.tables if t.status == "failed"]


class EnsureFailed(AuroraCtlError):
    """Some tables failed (each was reported); the exit code is the first failure's."""

    def __init__(self, run: EnsureRun) -> None:
        failed = run.failed
        names = ", ".join(t.table for t in failed)
        # Each failure was reported with its table (its line, the JSON document, or the
        # dry run's notes): this line only sums up.
        super().__init__(
            f"partition ensure failed for {len(failed)} of {len(run.tables)} table(s): {names}"
        )
        self.exit_code = failed[0].exit_code or EXIT_DATABASE


def check_args(ahead: int, max_new: int | None = None) -> None:
    if not 0 <= ahead <= MAX_AHEAD:
        raise InvalidInput(f"--ahead {ahead} is out of range (0-{MAX_AHEAD})")
    if max_new is not None and max_new < 1:
        raise InvalidInput(f"--max-new {max_new} must be at least 1")


def command_line(tables: list[str] | None, ahead: int, max_new: int | None = None) -> str:
    """The command as one would type it (table names shell-quoted)."""
    import shlex

    which = " ".join(f"--table {shlex.quote(t)}" for t in tables) if tables else "--all"
    limit = f" --max-new {max_new}" if max_new not in (None, DEFAULT_MAX_NEW) else ""
    return f"partition ensure {which} --ahead {ahead}{limit}"


def plan_table(
    conn: psycopg.Connection,
    table: str,
    ahead: int,
    *,
    naming: nm.Naming | None = None,
    max_new: int | None = None,
    preview: bool = False,
) -> TablePlan:
    """One table's missing periods, after its newest partition through the current
    period + ``ahead``; errors are raised (``try_plan_table`` turns them into a failure).
    Over ``max_new`` the table is refused, its steps built only for a ``preview`` (not
    counting rows in DEFAULT for every period of a gap only to refuse it)."""
    p = parent(conn, table)
    interval = interval_of(p) if p.temporal and p.strategy == "range" else None
    if interval not in INTERVALS:
        why = f"not yearly, monthly or daily RANGE partitions ({interval or p.strategy})"
        return TablePlan(p.label, Plan("", ""), skipped=why)
    last = as_date(p.ranges[-1].upper)
    if last is None:
        return TablePlan(
            p.label, Plan("", ""), skipped="the newest partition is unbounded (MAXVALUE)"
        )
    assert interval is not None
    command = command_line([p.label], ahead)
    target = add_period(period_start(p.today, interval), interval, ahead + 1)
    starts = []
    while last < target:
        starts.append(last)
        last = add_period(last, interval)
    if not starts:
        return TablePlan(p.label, Plan(command, f"{p.label} is covered: nothing to do"))
    ctx = context(conn, p, naming)
    created = [new_period(ctx, interval, start) for start in starts]
    over = _over(p.label, created, ahead, max_new)
    if over is not None and not preview:
        return TablePlan(p.label, Plan(command, ""), tuple(created), failure=over)
    created = [checked(conn, ctx, new) for new in created]
    steps = [step for new in created for step in create_steps(ctx, new, txn=new.partition)]
    summary = f"create {len(created)} partition(s) of {p.label}: " + ", ".join(
        c.partition for c in created
    )
    plan = Plan(command, summary, tuple(steps), ctx.notes(created))
    return TablePlan(p.label, plan, tuple(created), failure=over)


def _over(
    table: str, created: list[NewPartition], ahead: int, max_new: int | None
) -> Failure | None:
    """A refusal when more partitions than ``max_new`` would be created at once."""
    if max_new is None or len(created) <= max_new:
        return None
    return Failure(
        f"would create {len(created)} partitions at once ({created[0].partition} .. "
        f"{created[-1].partition}), more than --max-new {max_new}",
        Refused.exit_code,
        "check the gap (partition status), then raise the limit: auroractl "
        + command_line([table], ahead, len(created)),
        over_limit=True,
    )


def try_plan_table(
    conn: psycopg.Connection,
    table: str,
    ahead: int,
    *,
    naming: nm.Naming | None = None,
    max_new: int | None = None,
    preview: bool = False,
) -> TablePlan:
    """``plan_table``, a failure being that table's outcome instead of an exception."""
    try:
        return plan_table(conn, table, ahead, naming=naming, max_new=max_new, preview=preview)
    except Exception as exc:
        failure = failure_of(exc)
        if failure is None:
            raise
        return TablePlan(table, Plan("", ""), failure=failure)


def failure_of(exc: BaseException) -> Failure | None:
    """An auroractl or database error as one table's failure; None for anything else (a
    bug, which keeps its traceback)."""
    import psycopg

    if isinstance(exc, AuroraCtlError):
        return Failure(str(exc), exc.exit_code, exc.hint)
    if isinstance(exc, psycopg.Error):
        state = f" [{exc.sqlstate}]" if exc.sqlstate else ""
        text = " ".join(str(exc).split())[:400]
        return Failure(f"database error{state}: {text}", EXIT_DATABASE)
    return None


def preview(tables: list[TablePlan], command: str, *, applying: bool = False) -> Plan:
    """Every table's steps as one plan, to show or (``applying``) to confirm once. Shown,
    it has the tables over --max-new too, with a note; to confirm, only what will run.
    Failures and skips are its notes."""
    steps: list[Step] = []
    notes: list[str] = []
    created: list[NewPartition] = []
    for t in tables:
        if t.failure is None or (t.refused and not applying):
            steps += t.plan.steps
            created += t.created
            notes += [f"{t.table}: {n}" for n in t.plan.notes]
        if t.refused and t.failure is not None:
            notes.append(f"{t.table}: refused when applied: {t.failure.error}")
        elif t.failure is not None:
            notes.append(f"{t.table}: FAILED: {t.failure.error}")
        elif t.skipped:
            notes.append(f"{t.table}: skipped: {t.skipped}")
    summary = (
        f"create {len(created)} partition(s): " + ", ".join(c.partition for c in created)
        if created
        else "every partitioned table is covered: nothing to do"
    )
    return Plan(command, summary, tuple(steps), tuple(notes))


def outcome(
    t: TablePlan, ledger_id: int | str | None = None, failure: Failure | None = None
) -> TableOutcome:
    """How one table ended: applied (its ledger row), nothing to do, skipped or failed."""
    failure = failure or t.failure
    notes = t.plan.notes
    if failure is not None:
        return TableOutcome(
            t.table, "failed", (), None, notes, failure.error, failure.exit_code, failure.hint
        )
    if t.skipped:
        return TableOutcome(t.table, "skipped", notes=(t.skipped,))
    if t.plan.empty:
        return TableOutcome(t.table, "nothing-to-do")
    return TableOutcome(t.table, "applied", tuple(c.partition for c in t.created), ledger_id, notes)


def dry_run_report(command: str, tables: list[TablePlan]) -> EnsureRun:
    """What a dry run says of each table: failed to plan, or previewed (a table over
    --max-new is previewed: applying it is what is refused)."""
    outcomes = [outcome(t) if t.failed else TableOutcome(t.table, "dry-run") for t in tables]
    return EnsureRun(command, "dry-run", tuple(outcomes))


def run_report(command: str, outcomes: list[TableOutcome]) -> EnsureRun:
    applied = [o for o in outcomes if o.status == "applied"]
    status = (
        "incomplete"
        if any(o.status == "failed" for o in outcomes)
        else "applied"
        if applied
        else "nothing-to-do"
    )
    ledger = applied[-1].ledger_id if applied else None
    return EnsureRun(command, status, tuple(outcomes), ledger)


def plan_ensure(
    conn: psycopg.Connection,
    tables: list[str] | None,
    ahead: int,
    *,
    naming: nm.Naming | None = None,
    max_new: int | None = None,
) -> tuple[Plan, EnsureReport]:
    """Every table's missing periods as one plan (the library's all-or-nothing form: the
    first table that cannot be planned raises)."""
    check_args(ahead, max_new)
    planned = [
        plan_table(conn, t, ahead, naming=naming, max_new=max_new)
        for t in (tables or range_parents(conn))
    ]
    refused = next((t for t in planned if t.failure is not None), None)
    if refused is not None and refused.failure is not None:
        raise Refused(refused.failure.error, hint=refused.failure.hint)
    plan = preview(planned, command_line(tables, ahead, max_new), applying=True)
    report = EnsureReport(
        tuple(c for t in planned for c in t.created),
        tuple(f"{t.table}: {t.skipped}" for t in planned if t.skipped),
    )
    return plan, report
