"""``partition status``: bounds, DEFAULT rows, gaps, overlaps, coverage ahead."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING

from auroractl.ops.partition.catalog import count, parent
from auroractl.ops.partition.model import (
    INTERVALS,
    PartitionInfo,
    PartitionStatus,
    add_period,
    as_date,
    interval_of,
    period_start,
)

if TYPE_CHECKING:
    import psycopg


def status(conn: psycopg.Connection, table: str) -> PartitionStatus:
    p = parent(conn, table)
    default = p.default
    default_rows = None
    if default:
        default_rows = count(conn, "partition/count.sql.j2", default.name, table=default.qualified)
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
    if interval in INTERVALS and covered_until is not None:
        start = period_start(p.today, interval)
        current = any(_covers(r, start) for r in ranges)
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


def _covers(r: PartitionInfo, day: dt.date) -> bool:
    """Whether range partition ``r`` holds ``day`` (MINVALUE / MAXVALUE are open ends)."""
    lo, hi = as_date(r.lower), as_date(r.upper)
    after_lower = r.lower is None or (lo is not None and lo <= day)
    return after_lower and (r.upper is None or (hi is not None and day < hi))
