"""``partition create``: one partition built beside its parent, rows drained out of
DEFAULT, then ATTACHed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition.catalog import count, parent
from auroractl.ops.partition.model import (
    INTEGER_TYPES,
    NewPartition,
    Parent,
    add_period,
    as_date,
    check_year,
    interval_of,
    parse_month,
    typed,
)
from auroractl.ops.shared import shape
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg


def validate_create(year: int | None, month: str | None, tenant: int | None) -> dt.date | None:
    """Check the period arguments before touching the database; returns the month start."""
    given = [x for x in (year, month, tenant) if x is not None]
    if len(given) != 1:
        raise InvalidInput("give exactly one of --year, --month or --tenant")
    if year is not None:
        check_year(year)
    if tenant is not None and tenant < 1:
        raise InvalidInput(f"--tenant {tenant} must be a positive id")
    return parse_month(month) if month is not None else None


def plan_create(
    conn: psycopg.Connection,
    table: str,
    *,
    year: int | None = None,
    month: str | None = None,
    tenant: int | None = None,
) -> tuple[Plan, NewPartition]:
    """Plan one partition: a year or month (RANGE on a date/timestamp) or a tenant (LIST)."""
    start = validate_create(year, month, tenant)
    p = parent(conn, table)
    command = (
        "partition create "
        + (
            f"--year {year}"
            if year is not None
            else f"--month {month}"
            if month is not None
            else f"--tenant {tenant}"
        )
        + f" --table {p.label}"
    )
    new = _new_list(p, tenant) if tenant is not None else new_range(p, year=year, month_start=start)
    if new.exists:
        return Plan(command, f"{new.partition} already exists ({new.bound}): nothing to do"), new
    default = p.default
    new = with_rows_to_move(conn, p, new)
    steps = create_steps(conn, p, new, txn=new.partition)
    summary = f"create {new.partition} {new.bound}"
    if default:
        summary += f", moving {new.rows_to_move:,} row(s) out of {default.name}"
    return Plan(command, summary, tuple(steps)), new


def with_rows_to_move(conn: psycopg.Connection, p: Parent, new: NewPartition) -> NewPartition:
    """How many rows of the new partition's range sit in DEFAULT now."""
    if p.default is None:
        return new
    rows = count(
        conn,
        "partition/count_in_bounds.sql.j2",
        p.default.name,
        default=p.default.qualified,
        predicate=_predicate(p, new),
    )
    return replace(new, rows_to_move=rows)


def new_range(p: Parent, *, year: int | None, month_start: dt.date | None) -> NewPartition:
    if p.strategy != "range":
        raise Precondition(
            f'"{p.label}" is {p.strategy}-partitioned by {p.key}: use --tenant for LIST partitions'
        )
    if not p.temporal:
        raise Precondition(
            f'"{p.label}" is range-partitioned on {p.key} ({p.key_type}), '
            "not on a date or timestamp: --year/--month do not apply"
        )
    interval = interval_of(p)
    wanted = "year" if year is not None else "month"
    if interval in ("year", "month") and interval != wanted:
        raise InvalidInput(
            f'"{p.label}" has {interval}ly partitions: use --{interval} instead of --{wanted}'
        )
    lower = dt.date(year, 1, 1) if year is not None else month_start
    assert lower is not None
    upper = add_period(lower, wanted)
    suffix = f"{lower.year}" if wanted == "year" else f"{lower.year}_{lower.month:02d}"
    name = f"{p.name}_{suffix}"
    lo, hi = typed(lower, p.key_type), typed(upper, p.key_type)
    bound = f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
    for r in p.ranges:
        r_lo, r_hi = as_date(r.lower), as_date(r.upper)
        if r_lo == lower and r_hi == upper:
            return NewPartition(
                p.label,
                r.name,
                r.bound,
                True,
                lower=lo,
                upper=hi,
                schema=r.schema,
                relname=r.relname,
            )
        if (r_hi is None or lower < r_hi) and (r_lo is None or r_lo < upper):
            raise Precondition(
                f"{lower.isoformat()}..{upper.isoformat()} overlaps existing "
                f"partition {r.name} ({r.bound})"
            )
    _check_free_name(p, name)
    return NewPartition(
        p.label,
        f"{p.schema}.{name}",
        bound,
        False,
        lower=lo,
        upper=hi,
        schema=p.schema,
        relname=name,
    )


def _new_list(p: Parent, tenant: int) -> NewPartition:
    if p.strategy != "list":
        raise Precondition(
            f'"{p.label}" is {p.strategy}-partitioned, not LIST: --tenant '
            "applies to tables partitioned by LIST on a tenant key"
        )
    if p.key_type not in INTEGER_TYPES:
        raise Precondition(
            f'"{p.label}" is list-partitioned on {p.key} ({p.key_type}), not an integer tenant id'
        )
    for part in p.partitions:
        if part.kind == "list" and tenant in part.values:
            if part.values == (tenant,):
                return NewPartition(
                    p.label,
                    part.name,
                    part.bound,
                    True,
                    values=(tenant,),
                    schema=part.schema,
                    relname=part.relname,
                )
            raise Precondition(
                f"tenant {tenant} is already in partition {part.name} ({part.bound})"
            )
    name = f"{p.name}_{p.key.removesuffix('_id')}_{tenant}"
    _check_free_name(p, name)
    return NewPartition(
        p.label,
        f"{p.schema}.{name}",
        f"FOR VALUES IN ({tenant})",
        False,
        values=(tenant,),
        schema=p.schema,
        relname=name,
    )


def _check_free_name(p: Parent, name: str) -> None:
    if any(part.name == f"{p.schema}.{name}" for part in p.partitions):
        raise Precondition(f'partition "{p.schema}.{name}" exists with other bounds')


def _bounds_ctx(new: NewPartition) -> dict[str, Any]:
    if new.values:
        return {"values": list(new.values)}
    return {"lower": new.lower, "upper": new.upper}


def _predicate(p: Parent, new: NewPartition) -> str:
    return templates.render("partition/_predicate.sql.j2", key=p.key, **_bounds_ctx(new))


def create_steps(conn: psycopg.Connection, p: Parent, new: NewPartition, txn: str) -> list[Step]:
    """One transaction: build the partition beside the parent, then attach it.

    The bulk of the work (moving rows out of DEFAULT, building indexes, validating
    foreign keys) runs while the application keeps writing. Only the end holds a lock
    that makes writers of the parent wait: moving the rows that arrived meanwhile and
    ATTACH. Writers wait *before* tuple routing, so none of them is routed to DEFAULT
    and then rejected by its new constraint; readers never wait on the parent.
    """
    part = new.qualified
    predicate = _predicate(p, new)
    default = p.default
    locks = (p.label, *(d.name for d in [default] if d))
    steps: list[Step] = []

    def add(template: str, comment: str = "", **ctx: Any) -> None:
        steps.append(
            Step(
                templates.render(template, partition=part, **ctx),
                comment=comment,
                locks=locks,
                txn=txn,
            )
        )

    add("partition/create.sql.j2", parent=p.qualified, predicate=predicate)
    columns = [r[0] for r in conn.execute(templates.load("partition/columns.sql"), {"oid": p.oid})]
    move = {
        "default": default.qualified if default else None,
        "predicate": predicate,
        "columns": columns,
    }
    if default and new.rows_to_move:
        add(
            "partition/move.sql.j2",
            f"move {new.rows_to_move:,} row(s) out of {default.name}",
            **move,
        )
    # PostgreSQL names the copies; ATTACH adopts them as the parent's partition indexes
    # and constraints. Foreign keys are validated here, while writers keep writing, so
    # that ATTACH adopts them instead of validating under its lock.
    copied = shape.copy(shape.read(conn, p.oid), part, validate_apart=True)
    steps += [Step(s.sql, comment=s.comment, locks=locks, txn=txn) for s in copied.statements]
    if default:
        add(
            "partition/lock_parent.sql.j2",
            "writers of the parent wait from here to COMMIT; readers do not",
            parent=p.qualified,
        )
        add("partition/move.sql.j2", "rows that reached DEFAULT during the bulk move", **move)
    bound = templates.render("partition/_bound.sql.j2", **_bounds_ctx(new))
    add("partition/attach.sql.j2", parent=p.qualified, bound=bound)
    add("partition/drop_bound_check.sql.j2")
    steps.append(
        Step(
            templates.render("partition/analyze.sql.j2", table=part),
            autocommit=True,
            comment="fresh statistics for the planner",
        )
    )
    return steps
