"""Declarative partitions: status, create (draining DEFAULT), ensure ahead, detach.

Strategy and key are read from the catalog. A new partition is built as a standalone
table and ATTACHed (SHARE UPDATE EXCLUSIVE on the parent) instead of
``CREATE TABLE ... PARTITION OF`` (ACCESS EXCLUSIVE on the parent), so inserts into
the parent's other partitions never wait on us.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.shared import shape
from auroractl.ops.shared.catalog import SchemaNamed, exists, resolve
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

MIN_YEAR, MAX_YEAR = 1900, 2200
TEMPORAL_TYPES = ("date", "timestamp without time zone", "timestamp with time zone")
INTEGER_TYPES = ("smallint", "integer", "bigint")
STRATEGIES = {"r": "range", "l": "list", "h": "hash"}
_RANGE = re.compile(r"^FOR VALUES FROM \((.*)\) TO \((.*)\)$")
_LIST = re.compile(r"^FOR VALUES IN \((.*)\)$")


class _Partition:
    """``qualified`` of the dataclasses that name a partition by ``schema`` and ``relname``."""

    schema: str
    relname: str

    @property
    def qualified(self) -> tuple[str, str]:
        return (self.schema, self.relname)


@dataclass(frozen=True)
class PartitionInfo(_Partition):
    name: str  # schema.table, for people
    kind: str  # range | list | hash | default
    bound: str
    lower: Any = None
    upper: Any = None
    values: tuple[Any, ...] = ()
    rows_estimate: int = 0
    bytes: int = 0
    detach_pending: bool = False
    schema: str = ""
    relname: str = ""


@dataclass(frozen=True)
class Parent(SchemaNamed):
    oid: int
    schema: str
    name: str
    strategy: str  # range | list | hash
    key: str
    key_type: str
    today: dt.date
    partitions: tuple[PartitionInfo, ...]

    @property
    def default(self) -> PartitionInfo | None:
        return next((p for p in self.partitions if p.kind == "default"), None)

    @property
    def ranges(self) -> list[PartitionInfo]:
        return sorted(
            (p for p in self.partitions if p.kind == "range"),
            key=lambda p: (p.lower is not None, p.lower),
        )

    @property
    def temporal(self) -> bool:
        return self.key_type in TEMPORAL_TYPES


@dataclass(frozen=True)
class PartitionStatus:
    table: str
    strategy: str
    key: str
    key_type: str
    interval: str | None  # year | month | mixed | None
    partitions: tuple[PartitionInfo, ...]
    default_partition: str | None
    default_rows: int | None
    gaps: tuple[tuple[Any, Any], ...] = ()
    overlaps: tuple[tuple[str, str], ...] = ()
    covered_until: Any = None
    current_period_covered: bool | None = None
    periods_ahead: int | None = None


@dataclass(frozen=True)
class NewPartition(_Partition):
    """What ``create`` will make (or found already made)."""

    table: str
    partition: str
    bound: str
    exists: bool
    rows_to_move: int = 0
    lower: Any = None
    upper: Any = None
    values: tuple[Any, ...] = ()
    schema: str = ""
    relname: str = ""


@dataclass(frozen=True)
class EnsureReport:
    created: tuple[NewPartition, ...] = ()
    skipped: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------- catalog


def parent(conn: psycopg.Connection, table: str) -> Parent:
    """The partitioned table named ``table`` with its partitions; errors if not partitioned."""
    oid = resolve(conn, table).oid
    row = conn.execute(templates.load("partition/parent.sql"), {"oid": oid}).fetchone()
    _, schema, name, relkind, strat, key_is_expr, keys, key_types, today = row
    if relkind != "p":
        raise Precondition(
            f'table "{schema}.{name}" is not partitioned',
            hint="turning an existing table into a partitioned one is `partition migrate` "
            "(online schema changes), not `partition create`",
        )
    if key_is_expr or len(keys) != 1:
        raise Precondition(
            f'"{schema}.{name}" is partitioned by an expression or several '
            "columns; auroractl manages single-column keys only"
        )
    from auroractl.ops.shared import locks

    with locks.naming_blockers(conn, f"{schema}.{name}"):
        rows = conn.execute(templates.load("partition/partitions.sql"), {"oid": oid}).fetchall()
    parts = tuple(partition_info(r, key_types[0]) for r in rows)
    return Parent(oid, schema, name, STRATEGIES[strat], keys[0], key_types[0], today, parts)


def partition_info(row: tuple, key_type: str) -> PartitionInfo:
    schema, name, bound, rows, size, pending = row
    label = f"{schema}.{name}"
    common = {
        "rows_estimate": rows,
        "bytes": size,
        "detach_pending": pending,
        "schema": schema,
        "relname": name,
    }
    if bound == "DEFAULT":
        return PartitionInfo(label, "default", bound, **common)
    if m := _RANGE.match(bound):
        return PartitionInfo(
            label,
            "range",
            bound,
            _value(m.group(1), key_type),
            _value(m.group(2), key_type),
            **common,
        )
    if m := _LIST.match(bound):
        values = tuple(_value(v.strip(), key_type) for v in _split_list(m.group(1)))
        return PartitionInfo(label, "list", bound, values=values, **common)
    return PartitionInfo(label, "hash", bound, **common)


def _split_list(text: str) -> list[str]:
    """Split a deparsed IN list on commas outside quotes."""
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [*out, cur] if cur.strip() else out


def _value(text: str, key_type: str) -> Any:
    """A deparsed bound value ('2025-01-01', 42, MINVALUE) as a Python value."""
    text = text.strip()
    if text in ("MINVALUE", "MAXVALUE"):
        return None
    if text.startswith("'") and text.endswith("'"):
        raw = text[1:-1].replace("''", "'")
        try:
            if key_type == "date":
                return dt.date.fromisoformat(raw)
            if key_type.startswith("timestamp"):
                return dt.datetime.fromisoformat(raw)
        except ValueError:
            return raw
        return raw
    try:
        return int(text)
    except ValueError:
        return text


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def interval_of(p: Parent) -> str | None:
    """year / month when every range partition spans exactly one aligned period."""
    spans = [(as_date(r.lower), as_date(r.upper)) for r in p.ranges]
    spans = [(lo, hi) for lo, hi in spans if lo and hi]
    if not spans:
        return None
    if all(lo.month == 1 and lo.day == 1 and hi == add_period(lo, "year") for lo, hi in spans):
        return "year"
    if all(lo.day == 1 and hi == add_period(lo, "month") for lo, hi in spans):
        return "month"
    return "mixed"


def add_period(d: dt.date, interval: str, n: int = 1) -> dt.date:
    if interval == "year":
        return dt.date(d.year + n, 1, 1)
    months = d.year * 12 + (d.month - 1) + n
    return dt.date(months // 12, months % 12 + 1, 1)


def period_start(d: dt.date, interval: str) -> dt.date:
    return dt.date(d.year, 1, 1) if interval == "year" else dt.date(d.year, d.month, 1)


def _count(conn: psycopg.Connection, template: str, label: str, **ctx: Any) -> int:
    from auroractl.ops.shared import locks

    with locks.naming_blockers(conn, label):
        return conn.execute(templates.render(template, **ctx)).fetchone()[0]


# ---------------------------------------------------------------- status


def status(conn: psycopg.Connection, table: str) -> PartitionStatus:
    p = parent(conn, table)
    default = p.default
    default_rows = None
    if default:
        default_rows = _count(conn, "partition/count.sql.j2", default.name, table=default.qualified)
    gaps, overlaps = [], []
    ranges = p.ranges
    for a, b in itertools.pairwise(ranges):
        if a.upper is not None and b.lower is not None:
            if a.upper < b.lower:
                gaps.append((a.upper, b.lower))
            elif a.upper > b.lower:
                overlaps.append((a.name, b.name))
    interval = interval_of(p) if p.temporal and p.strategy == "range" else None
    covered_until = ranges[-1].upper if ranges else None
    current, ahead = None, None
    if interval in ("year", "month") and covered_until is not None:
        start = period_start(p.today, interval)
        covering = [
            r for r in ranges if as_date(r.lower) and as_date(r.lower) <= start < as_date(r.upper)
        ]
        current = bool(covering)
        ahead = 0
        nxt = add_period(start, interval)
        starts = {as_date(r.lower) for r in ranges}
        while nxt in starts:
            ahead += 1
            nxt = add_period(nxt, interval)
    return PartitionStatus(
        p.label,
        p.strategy,
        p.key,
        p.key_type,
        interval,
        p.partitions,
        default.name if default else None,
        default_rows,
        tuple(gaps),
        tuple(overlaps),
        covered_until,
        current,
        ahead,
    )


# ---------------------------------------------------------------- create


def parse_month(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput(f"--month {text!r} is not a month like 2026-03")
    check_year(int(m.group(1)))
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def check_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
    return year


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
    if tenant is not None:
        new = _new_list(p, tenant)
    else:
        new = _new_range(p, year=year, month_start=start)
    if new.exists:
        return Plan(command, f"{new.partition} already exists ({new.bound}): nothing to do"), new
    default = p.default
    new = _with_rows_to_move(conn, p, new)
    steps = _create_steps(conn, p, new, txn=new.partition)
    summary = f"create {new.partition} {new.bound}"
    if default:
        summary += f", moving {new.rows_to_move:,} row(s) out of {default.name}"
    return Plan(command, summary, tuple(steps)), new


def _with_rows_to_move(conn: psycopg.Connection, p: Parent, new: NewPartition) -> NewPartition:
    """How many rows of the new partition's range sit in DEFAULT now."""
    if p.default is None:
        return new
    rows = _count(
        conn,
        "partition/count_in_bounds.sql.j2",
        p.default.name,
        default=p.default.qualified,
        predicate=_predicate(p, new),
    )
    return replace(new, rows_to_move=rows)


def _new_range(p: Parent, *, year: int | None, month_start: dt.date | None) -> NewPartition:
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
    lo, hi = _typed(lower, p.key_type), _typed(upper, p.key_type)
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


def _typed(d: dt.date, key_type: str) -> Any:
    if key_type == "date":
        return d
    tz = dt.UTC if key_type == "timestamp with time zone" else None
    return dt.datetime(d.year, d.month, d.day, tzinfo=tz)


def _bounds_ctx(new: NewPartition) -> dict[str, Any]:
    if new.values:
        return {"values": list(new.values)}
    return {"lower": new.lower, "upper": new.upper}


def _predicate(p: Parent, new: NewPartition) -> str:
    return templates.render("partition/_predicate.sql.j2", key=p.key, **_bounds_ctx(new))


def _create_steps(conn: psycopg.Connection, p: Parent, new: NewPartition, txn: str) -> list[Step]:
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


# ---------------------------------------------------------------- ensure


def range_parents(conn: psycopg.Connection) -> list[str]:
    """Every RANGE-partitioned table with a single date/timestamp key (user schemas)."""
    rows = conn.execute(
        templates.load("partition/range_parents.sql"), {"types": list(TEMPORAL_TYPES)}
    ).fetchall()
    return [f"{s}.{n}" for s, n in rows]


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
            new = _new_range(p, year=year, month_start=start if month else None)
            new = _with_rows_to_move(conn, p, new)
            steps += _create_steps(conn, p, new, txn=new.partition)
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


# ---------------------------------------------------------------- detach


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
