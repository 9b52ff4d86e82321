"""``partition detach``: retention, old partitions detached (CONCURRENTLY when possible)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition.catalog import parent
from auroractl.ops.partition.model import Parent, PartitionInfo, as_date, check_year
from auroractl.ops.shared.catalog import exists
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg


def plan_detach(
    conn: psycopg.Connection,
    table: str,
    before: int,
    *,
    archive_schema: str | None = None,
    drop: bool = False,
) -> Plan:
    """Detach every range partition entirely before Jan 1 of ``before``."""
    check_year(before)
    if drop and archive_schema:
        raise InvalidInput("--drop and --archive-schema exclude each other")
    p = parent(conn, table)
    if p.strategy != "range" or not p.temporal:
        raise Precondition(f'"{p.label}" is not RANGE-partitioned on a date/timestamp')
    cutoff = dt.date(before, 1, 1)
    old = [r for r in p.ranges if as_date(r.upper) is not None and as_date(r.upper) <= cutoff]
    # DETACH CONCURRENTLY is refused when a DEFAULT partition exists: fall back to a
    # plain DETACH (brief ACCESS EXCLUSIVE on the parent) under lock_timeout + retries.
    concurrently = p.default is None
    notes = (
        ()
        if concurrently
        else (
            f"{p.label} has a DEFAULT partition, so PostgreSQL refuses DETACH CONCURRENTLY: "
            "using a plain DETACH (brief exclusive lock, bounded by lock_timeout)",
        )
    )
    steps = _detach_steps(p, old, concurrently, archive_schema, drop)
    if archive_schema:
        taken = [r.name for r in old if exists(conn, (archive_schema, r.qualified[1]))]
        if taken:
            raise Precondition(
                f"{archive_schema} already has a table named like {', '.join(taken)}"
            )
    verb = (
        "detach and drop"
        if drop
        else (f"detach and move to {archive_schema}" if archive_schema else "detach")
    )
    summary = (
        f"{verb} {len(old)} partition(s) of {p.label} before {before}: "
        + ", ".join(r.name for r in old)
        if old
        else f"no partition of {p.label} ends before {before}: nothing to do"
    )
    command = (
        f"partition detach --table {p.label} --before {before}"
        + (f" --archive-schema {archive_schema}" if archive_schema else "")
        + (" --drop" if drop else "")
    )
    return Plan(command, summary, tuple(steps), notes)


def _detach_steps(
    p: Parent,
    old: list[PartitionInfo],
    concurrently: bool,
    archive_schema: str | None,
    drop: bool,
) -> list[Step]:
    """Each partition detached, then moved to the archive schema or dropped (autocommit:
    DETACH CONCURRENTLY runs outside a transaction)."""
    steps: list[Step] = []
    if archive_schema and old:
        steps.append(
            Step(
                templates.render("partition/create_schema.sql.j2", schema=archive_schema),
                autocommit=True,
            )
        )
    for r in old:
        part = r.qualified
        steps.append(
            Step(
                templates.render(
                    "partition/detach.sql.j2",
                    parent=p.qualified,
                    partition=part,
                    concurrently=concurrently,
                    finalize=r.detach_pending,
                ),
                autocommit=True,
                comment=f"{r.name} {r.bound}",
                locks=(p.label, r.name),
            )
        )
        if archive_schema:
            steps.append(
                Step(
                    templates.render(
                        "partition/archive.sql.j2", partition=part, schema=archive_schema
                    ),
                    autocommit=True,
                    locks=(r.name,),
                )
            )
        elif drop:
            steps.append(
                Step(
                    templates.render("partition/drop.sql.j2", partition=part),
                    autocommit=True,
                    comment="--drop: the data is deleted",
                    locks=(r.name,),
                )
            )
    return steps
