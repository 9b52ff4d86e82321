"""``partition ensure``: every missing period through the current one + ahead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auroractl.errors import InvalidInput
from auroractl.ops.partition.catalog import parent, range_parents
from auroractl.ops.partition.create import create_steps, new_range, with_rows_to_move
from auroractl.ops.partition.model import (
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


def plan_ensure(
    conn: psycopg.Connection, tables: list[str] | None, ahead: int
) -> tuple[Plan, EnsureReport]:
    """Create every missing period after the newest one through the current period + ahead."""
    if not 0 <= ahead <= 100:
        raise InvalidInput(f"--ahead {ahead} is out of range (0-100)")
    names = tables or range_parents(conn)
    steps: list[Step] = []
    created: list[NewPartition] = []
    skipped: list[str] = []
    for table in names:
        p = parent(conn, table)
        interval = interval_of(p) if p.temporal and p.strategy == "range" else None
        if interval not in ("year", "month"):
            skipped.append(
                f"{p.label}: not yearly/monthly RANGE partitions ({interval or p.strategy})"
            )
            continue
        last = as_date(p.ranges[-1].upper)
        if last is None:
            skipped.append(f"{p.label}: newest partition is unbounded (MAXVALUE)")
            continue
        target = add_period(period_start(p.today, interval), interval, ahead + 1)
        start = last
        while start < target:
            year = start.year if interval == "year" else None
            month = f"{start.year}-{start.month:02d}" if interval == "month" else None
            new = new_range(p, year=year, month_start=start if month else None)
            new = with_rows_to_move(conn, p, new)
            steps += create_steps(conn, p, new, txn=new.partition)
            created.append(new)
            start = add_period(start, interval)
    summary = (
        f"create {len(created)} partition(s): " + ", ".join(c.partition for c in created)
        if created
        else "every partitioned table is covered: nothing to do"
    )
    command = (
        "partition ensure "
        + (" ".join(f"--table {t}" for t in tables) if tables else "--all")
        + f" --ahead {ahead}"
    )
    return Plan(command, summary, tuple(steps), tuple(skipped)), EnsureReport(
        tuple(created), tuple(skipped)
    )
