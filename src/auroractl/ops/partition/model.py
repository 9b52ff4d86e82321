"""The partitions of a table as data: bounds parsed from the catalog, periods, intervals."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from auroractl.errors import InvalidInput
from auroractl.ops.shared.catalog import SchemaNamed, sql_name

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
    oid: int = 0


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
    def label(self) -> str:
        """schema.name as PostgreSQL reads it back (public."Eventos")."""
        return sql_name(self.schema, self.name)

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
    interval: str | None  # year | month | day | mixed | None
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
    named: str | None = None  # how its name was chosen, when not by the default


@dataclass(frozen=True)
class EnsureReport:
    created: tuple[NewPartition, ...] = ()
    skipped: tuple[str, ...] = field(default_factory=tuple)


def partition_info(row: tuple, key_type: str) -> PartitionInfo:
    """One row of partition/partitions.sql (schema, name, bound, rows, bytes, detach
    pending[, oid]) as data."""
    schema, name, bound, rows, size, pending, *oid = row
    label = sql_name(schema, name)
    common = {
        "rows_estimate": rows,
        "bytes": size,
        "detach_pending": pending,
        "schema": schema,
        "relname": name,
        "oid": oid[0] if oid else 0,
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
            if key_type in INTEGER_TYPES:  # bigint bounds are deparsed quoted: ('1000000')
                return int(raw)
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


def day_of(value: Any) -> dt.date | None:
    """The date a bound falls on when it is exactly midnight (UTC for timestamptz: the
    session's TimeZone), else None: such a bound does not start a whole period."""
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        if value.time() != dt.time(0) or (offset is not None and offset != dt.timedelta(0)):
            return None
        return value.date()
    return value if isinstance(value, dt.date) else None


INTERVALS = ("year", "month", "day")


def interval_of(p: Parent) -> str | None:
    """year / month / day when every bounded range partition spans exactly one aligned
    period (MINVALUE / MAXVALUE ranges aside); "mixed" otherwise; None without any."""
    spans = [(r.lower, r.upper) for r in p.ranges if r.lower is not None and r.upper is not None]
    if not spans:
        return None
    days = [(day_of(lo), day_of(hi)) for lo, hi in spans]
    for interval in INTERVALS:
        if all(lo and hi and _one_period(lo, hi, interval) for lo, hi in days):
            return interval
    return "mixed"


def _one_period(lo: dt.date, hi: dt.date, interval: str) -> bool:
    return lo == period_start(lo, interval) and hi == add_period(lo, interval)


def add_period(d: dt.date, interval: str, n: int = 1) -> dt.date:
    if interval == "year":
        return dt.date(d.year + n, 1, 1)
    if interval == "day":
        return d + dt.timedelta(days=n)
    months = d.year * 12 + (d.month - 1) + n
    return dt.date(months // 12, months % 12 + 1, 1)


def period_start(d: dt.date, interval: str) -> dt.date:
    if interval == "year":
        return dt.date(d.year, 1, 1)
    return d if interval == "day" else dt.date(d.year, d.month, 1)


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


def typed(d: dt.date, key_type: str) -> Any:
    if key_type == "date":
        return d
    tz = dt.UTC if key_type == "timestamp with time zone" else None
    return dt.datetime(d.year, d.month, d.day, tzinfo=tz)
