"""``partition create``: one partition built beside its parent, rows drained out of
DEFAULT, then ATTACHed; named like its siblings and given what they have of their own."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition import naming as nm
from auroractl.ops.partition import siblings
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
from auroractl.ops.shared.catalog import exists, sql_name
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Context:
    """What every new partition of one table is built from, read once."""

    parent: Parent
    columns: tuple[str, ...]  # insertable, in order: what moves out of DEFAULT
    shape: shape.Shape  # the parent's indexes and keys
    model: siblings.Model | None  # the newest sibling, what it has of its own
    naming: nm.Naming | None = None

    def notes(self, new: list[NewPartition]) -> tuple[str, ...]:
        """What the plan says of how the new partitions are named and what they copy."""
        out = list(dict.fromkeys(n.named for n in new if n.named))
        if self.model is not None and not self.model.empty:
            out.append(self.model.describe())
        return tuple(out)


def context(conn: psycopg.Connection, p: Parent, naming: nm.Naming | None = None) -> Context:
    columns = tuple(
        r[0] for r in conn.execute(templates.load("partition/columns.sql"), {"oid": p.oid})
    )
    return Context(p, columns, shape.read(conn, p.oid), siblings.read(conn, p), naming)


def parse_day(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    try:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput(f"--day {text!r} is not a day like 2026-03-05")
    check_year(day.year)
    return day


def validate_create(
    year: int | None, month: str | None, tenant: int | None, day: str | None = None
) -> tuple[str, dt.date] | None:
    """Check the period arguments before touching the database: (interval, start) of the
    period asked for, or None for a tenant."""
    given = [x for x in (year, month, day, tenant) if x is not None]
    if len(given) != 1:
        raise InvalidInput("give exactly one of --year, --month, --day or --tenant")
    if tenant is not None:
        if tenant < 1:
            raise InvalidInput(f"--tenant {tenant} must be a positive id")
        return None
    if year is not None:
        return "year", dt.date(check_year(year), 1, 1)
    if month is not None:
        return "month", parse_month(month)
    assert day is not None
    return "day", parse_day(day)


def plan_create(
    conn: psycopg.Connection,
    table: str,
    *,
    year: int | None = None,
    month: str | None = None,
    tenant: int | None = None,
    day: str | None = None,
    naming: nm.Naming | None = None,
) -> tuple[Plan, NewPartition]:
    """Plan one partition: a year, month or day (RANGE on a date/timestamp) or a tenant
    (LIST)."""
    period = validate_create(year, month, tenant, day)
    p = parent(conn, table)
    option = next(
        f"--{k} {v}"
        for k, v in (("year", year), ("month", month), ("day", day), ("tenant", tenant))
        if v is not None
    )
    command = f"partition create {option} --table {p.shell}"
    ctx = context(conn, p, naming)
    new = new_list(ctx, tenant) if period is None else new_period(ctx, *period)
    if new.exists:
        return Plan(command, f"{new.partition} already exists ({new.bound}): nothing to do"), new
    new = checked(conn, ctx, new)
    summary = f"create {new.partition} {new.bound}"
    if p.default:
        summary += f", moving {new.rows_to_move:,} row(s) out of {p.default.name}"
    steps = create_steps(ctx, new, txn=new.partition)
    return Plan(command, summary, tuple(steps), ctx.notes([new])), new


def checked(conn: psycopg.Connection, ctx: Context, new: NewPartition) -> NewPartition:
    """The name is free (no other table has it) and how many rows of the new partition's
    bounds sit in DEFAULT now."""
    if exists(conn, new.qualified):
        raise Precondition(
            f"a table named {new.partition} exists and is not a partition of {ctx.parent.label}",
            hint="rename it, or name new partitions with [partition.names] in auroractl.toml",
        )
    p = ctx.parent
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


def new_period(ctx: Context, interval: str, lower: dt.date) -> NewPartition:
    """The partition of the period starting at ``lower`` (or the one that already is)."""
    p = ctx.parent
    if p.strategy != "range":
        raise Precondition(
            f'"{p.label}" is {p.strategy}-partitioned by {p.key}: use --tenant for LIST partitions'
        )
    if not p.temporal:
        raise Precondition(
            f'"{p.label}" is range-partitioned on {p.key} ({p.key_type}), '
            "not on a date or timestamp: --year/--month/--day do not apply"
        )
    existing = interval_of(p)
    if existing in nm.FIELDS and existing != interval:
        raise InvalidInput(
            f'"{p.label}" has {_adjective(existing)} partitions: use --{existing} '
            f"instead of --{interval}"
        )
    upper = add_period(lower, interval)
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
    name, named = nm.name_for(p, interval, ctx.naming, lower=lower)
    _check_free_name(p, name)
    return NewPartition(
        p.label,
        sql_name(p.schema, name),
        bound,
        False,
        lower=lo,
        upper=hi,
        schema=p.schema,
        relname=name,
        named=named,
    )


def _adjective(interval: str) -> str:
    return {"year": "yearly", "month": "monthly", "day": "daily"}[interval]


def new_list(ctx: Context, tenant: int) -> NewPartition:
    p = ctx.parent
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
    name, named = nm.name_for(p, "list", ctx.naming, value=tenant)
    _check_free_name(p, name)
    return NewPartition(
        p.label,
        sql_name(p.schema, name),
        f"FOR VALUES IN ({tenant})",
        False,
        values=(tenant,),
        schema=p.schema,
        relname=name,
        named=named,
    )


def _check_free_name(p: Parent, name: str) -> None:
    if any(part.relname == name and part.schema == p.schema for part in p.partitions):
        raise Precondition(f'partition "{p.schema}.{name}" exists with other bounds')


def _bounds_ctx(new: NewPartition) -> dict[str, Any]:
    if new.values:
        return {"values": list(new.values)}
    return {"lower": new.lower, "upper": new.upper}


def _predicate(p: Parent, new: NewPartition) -> str:
    return templates.render("partition/_predicate.sql.j2", key=p.key, **_bounds_ctx(new))


def create_steps(ctx: Context, new: NewPartition, txn: str) -> list[Step]:
    """One transaction: build the partition beside the parent, then attach it.

    The bulk of the work (moving rows out of DEFAULT, building indexes, validating
    foreign keys) runs while the application keeps writing. Only the end holds a lock
    that makes writers of the parent wait: moving the rows that arrived meanwhile and
    ATTACH. Writers wait *before* tuple routing, so none of them is routed to DEFAULT
    and then rejected by its new constraint; readers never wait on the parent.
    """
    p = ctx.parent
    part = new.qualified
    predicate = _predicate(p, new)
    default = p.default
    locks = (p.label, *(d.name for d in [default] if d))
    steps: list[Step] = []

    def add(template: str, comment: str = "", **kw: Any) -> None:
        sql = templates.render(template, partition=part, **kw)
        steps.append(Step(sql, comment=comment, locks=locks, txn=txn))

    def copy(copied: shape.Copy) -> None:
        steps.extend(
            Step(s.sql, comment=s.comment, locks=locks, txn=txn) for s in copied.statements
        )

    add("partition/create.sql.j2", parent=p.qualified, predicate=predicate)
    move = {
        "default": default.qualified if default else None,
        "predicate": predicate,
        "columns": list(ctx.columns),
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
    copy(shape.copy(ctx.shape, part, validate_apart=True))
    copy(siblings.before_attach(ctx.model, part))
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
    copy(siblings.after_attach(ctx.model, part))
    steps.append(
        Step(
            templates.render("partition/analyze.sql.j2", table=part),
            autocommit=True,
            comment="fresh statistics for the planner",
        )
    )
    return steps
