"""``partition detach``: retention by the table's own partitions, old ones detached
(CONCURRENTLY when possible), kept as tables, archived or dropped.

What is retired is said in the terms of the table's key: ``--before 2022-02`` (a year,
month or day on a date/timestamp key; a number on an integer key) and ``--older-than
18months`` retire the RANGE partitions that end by then, entirely before it, whatever
the table's interval; ``--values a,b`` retires the LIST partitions holding those values.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition.catalog import parent
from auroractl.ops.partition.model import (
    INTEGER_TYPES,
    MAX_YEAR,
    MIN_YEAR,
    Parent,
    PartitionInfo,
    check_year,
    typed,
)
from auroractl.ops.shared.catalog import exists
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_INTEGER = re.compile(r"-?\d+")
_AGE = re.compile(r"(\d+)\s*([a-z]+)")
UNITS = {
    "d": "day", "day": "day", "days": "day",
    "w": "week", "week": "week", "weeks": "week",
    "mo": "month", "mon": "month", "month": "month", "months": "month",
    "y": "year", "year": "year", "years": "year",
}  # fmt: skip
MAX_AGE_DAYS = 366 * (MAX_YEAR - MIN_YEAR)


@dataclass(frozen=True)
class Retention:
    """Which partitions ``detach`` retires, as given (exactly one of the three)."""

    before: str | None = None  # 2022 | 2022-02 | 2022-02-15 | 1000000
    older_than: tuple[int, str] | None = None  # (18, "month")
    values: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        """The command-line form, shell-quoted."""
        if self.before is not None:
            return f"--before {self.before}"
        if self.older_than is not None:
            n, unit = self.older_than
            return f"--older-than {n}{unit}s"
        return "--values " + shlex.quote(",".join(self.values))

    def describe(self) -> str:
        if self.before is not None:
            return f"before {self.before}"
        if self.older_than is not None:
            n, unit = self.older_than
            return f"older than {n} {unit}(s)"
        return "holding " + ", ".join(self.values)


def parse_retention(
    before: str | int | None = None, older_than: str | None = None, values: str | None = None
) -> Retention:
    """Check the retention arguments before touching the database."""
    given = [x for x in (before, older_than, values) if x is not None]
    if len(given) != 1:
        raise InvalidInput("give exactly one of --before, --older-than or --values")
    if before is not None:
        text = str(before).strip()
        if _DATE.fullmatch(text):
            _date_of(text)  # a real year, month or day
        elif not _INTEGER.fullmatch(text):
            raise InvalidInput(
                f"--before {before!r} is not a year (2022), a month (2022-02), a day "
                "(2022-02-15) or an integer"
            )
        return Retention(before=text)
    if older_than is not None:
        return Retention(older_than=_age(older_than))
    assert values is not None
    items = tuple(v.strip() for v in next(csv.reader([values]), []) if v.strip())
    if not items:
        raise InvalidInput("--values needs at least one value (a,b,c)")
    return Retention(values=items)


def _date_of(text: str) -> dt.date:
    m = _DATE.fullmatch(text)
    if m is None:
        raise InvalidInput(f"--before {text!r} is not a year, a month (2022-02) or a day")
    year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    check_year(year)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidInput(f"--before {text!r} is not a real month or day") from None


def _age(text: str) -> tuple[int, str]:
    m = _AGE.fullmatch(text.strip().lower())
    unit = UNITS.get(m.group(2)) if m else None
    if m is None or unit is None or int(m.group(1)) < 1:
        raise InvalidInput(
            f"--older-than {text!r} is not an age like 90days, 8weeks, 18months or 2years"
        )
    n = int(m.group(1))
    days = n * {"day": 1, "week": 7, "month": 31, "year": 366}[unit]
    if days > MAX_AGE_DAYS:
        raise InvalidInput(f"--older-than {text!r} reaches before year {MIN_YEAR}")
    return n, unit


def ago(today: dt.date, n: int, unit: str) -> dt.date:
    """``today`` minus n units (the same day of the month, or its last day)."""
    if unit in ("day", "week"):
        return today - dt.timedelta(days=n * (7 if unit == "week" else 1))
    months = today.year * 12 + today.month - 1 - n * (12 if unit == "year" else 1)
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(today.day, last))


def plan_detach(
    conn: psycopg.Connection,
    table: str,
    rule: Retention | str | int,
    *,
    archive_schema: str | None = None,
    drop: bool = False,
) -> Plan:
    """Detach the partitions ``rule`` retires (a bare value is ``--before``)."""
    if not isinstance(rule, Retention):
        rule = parse_retention(before=rule)
    if drop and archive_schema:
        raise InvalidInput("--drop and --archive-schema exclude each other")
    p = parent(conn, table)
    old, notes = selected(p, rule)
    # DETACH CONCURRENTLY is refused when a DEFAULT partition exists: fall back to a
    # plain DETACH (brief ACCESS EXCLUSIVE on the parent) under lock_timeout + retries.
    concurrently = p.default is None
    if not concurrently:
        notes.append(
            f"{p.label} has a DEFAULT partition, so PostgreSQL refuses DETACH CONCURRENTLY: "
            "using a plain DETACH (brief exclusive lock, bounded by lock_timeout)"
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
        f"{verb} {len(old)} partition(s) of {p.label} {rule.describe()}: "
        + ", ".join(r.name for r in old)
        if old
        else f"no partition of {p.label} is entirely {rule.describe()}: nothing to do"
    )
    command = (
        f"partition detach --table {p.shell} {rule.option}"
        + (f" --archive-schema {shlex.quote(archive_schema)}" if archive_schema else "")
        + (" --drop" if drop else "")
    )
    return Plan(command, summary, tuple(steps), tuple(notes))


def selected(p: Parent, rule: Retention) -> tuple[list[PartitionInfo], list[str]]:
    """The partitions ``rule`` retires (never DEFAULT), and notes for the plan."""
    if p.strategy == "hash":
        raise InvalidInput(f"{p.label} is HASH-partitioned: its partitions hold no range to retire")
    if rule.values:
        if p.strategy != "list":
            raise InvalidInput(
                f"{p.label} is {p.strategy.upper()}-partitioned on {p.key}: --values applies "
                "to LIST partitions; use --before or --older-than"
            )
        return _by_values(p, rule.values)
    if p.strategy != "range":
        raise InvalidInput(
            f"{p.label} is LIST-partitioned on {p.key}: retire partitions with --values"
        )
    cutoff = _cutoff(p, rule)
    old = [r for r in p.ranges if r.upper is not None and _ends_by(r.upper, cutoff)]
    return old, []


def _cutoff(p: Parent, rule: Retention) -> Any:
    """The value partitions must end by, in the key's own type."""
    if p.key_type in INTEGER_TYPES:
        if rule.before is None or not _INTEGER.fullmatch(rule.before):
            given = rule.option
            raise InvalidInput(
                f"{p.label} is partitioned on {p.key} ({p.key_type}): give --before as an "
                f"integer, not {given}"
            )
        return int(rule.before)
    if not p.temporal:
        raise InvalidInput(
            f"{p.label} is range-partitioned on {p.key} ({p.key_type}): auroractl retires "
            "ranges of dates, timestamps or integers only"
        )
    if rule.older_than is not None:
        day = ago(p.today, *rule.older_than)
        if day.year < MIN_YEAR:
            raise InvalidInput(f"{rule.option} reaches before year {MIN_YEAR}")
    else:
        assert rule.before is not None
        if not _DATE.fullmatch(rule.before):
            raise InvalidInput(
                f"{p.label} is partitioned on {p.key} ({p.key_type}): --before {rule.before} "
                "is not a year (2022), a month (2022-02) or a day (2022-02-15)"
            )
        day = _date_of(rule.before)
    return typed(day, p.key_type)


def _ends_by(upper: Any, cutoff: Any) -> bool:
    """Whether a partition's upper bound (exclusive) is at or before ``cutoff``; a bound
    that did not parse as the key's type is never retired."""
    if type(upper) is not type(cutoff):
        return False
    try:
        return bool(upper <= cutoff)
    except TypeError:  # naive and aware timestamps
        return False


def _by_values(p: Parent, values: tuple[str, ...]) -> tuple[list[PartitionInfo], list[str]]:
    wanted = {_given(v, p.key_type) for v in values}
    old, seen = [], set()
    for part in p.partitions:
        held = {_held(v) for v in part.values} if part.kind == "list" else set()
        if not held & wanted:
            continue
        if not held <= wanted:
            raise Precondition(
                f"{part.name} holds {', '.join(sorted(held & wanted))} and also "
                f"{', '.join(sorted(held - wanted))}: give every value of a partition to "
                "detach it"
            )
        old.append(part)
        seen |= held
    missing = [v for v in values if _given(v, p.key_type) not in seen]
    notes = [f"no partition of {p.label} holds {', '.join(missing)}"] if missing else []
    return old, notes


def _given(value: str, key_type: str) -> str:
    """A value of --values as comparable text (integers normalised: 007 is 7)."""
    if key_type not in INTEGER_TYPES:
        return value
    if not _INTEGER.fullmatch(value):
        raise InvalidInput(f"--values: {value!r} is not an integer (the key is {key_type})")
    return str(int(value))


def _held(value: Any) -> str:
    """A partition's LIST value as comparable text (dates ISO)."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


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
