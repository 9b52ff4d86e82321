"""Pure computation: statistics of a capacity series, cost under a scaling range,
recommendations, max_connections, the I/O-Optimized break-even. No I/O here."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

from auroractl.errors import InvalidInput
from auroractl.ops.capacity.model import (
    ACU_LIMIT,
    DEFAULT_PAUSE_SECONDS,
    HOURS_PER_MONTH,
    PAUSE_SECONDS,
    PAUSE_VERSIONS,
    PINNED_SHARE,
    CapacityStats,
    IoBreakEven,
    Prices,
    Scaling,
)
from auroractl.ops.shared.serverless import PAUSED_BELOW

FLOOR_SLACK = 0.05  # ACUs above the floor that still count as "at the minimum"


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 3)


def floor_of(scaling: Scaling) -> float:
    """The lowest capacity of a running instance: the minimum, or 0.5 when it is 0."""
    return max(scaling.min_capacity, 0.5)


def stats(
    instance: str,
    role: str,
    timestamps: Sequence[dt.datetime],
    values: Sequence[float],
    period_s: int,
    scaling: Scaling,
) -> CapacityStats:
    """p50 / p95 / max, ACU-hours and the shares of time at the max, at the min, paused."""
    n = len(values)
    paused = sum(1 for v in values if v < PAUSED_BELOW)
    at_max = sum(1 for v in values if v >= PINNED_SHARE * scaling.max_capacity)
    at_min = sum(1 for v in values if PAUSED_BELOW <= v <= floor_of(scaling) + FLOOR_SLACK)
    share = (lambda k: round(k / n, 4)) if n else (lambda k: 0.0)
    return CapacityStats(
        instance=instance,
        role=role,
        points=n,
        period_s=period_s,
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        maximum=max(values) if values else None,
        mean=round(sum(values) / n, 3) if n else None,
        hours_observed=round(n * period_s / 3600, 3),
        acu_hours=round(sum(values) * period_s / 3600, 3),
        share_at_max=share(at_max),
        share_at_min=share(at_min),
        share_paused=share(paused),
        timestamps=tuple(timestamps),
        values=tuple(values),
    )


def simulate(values: Sequence[float], period_s: int, current: Scaling, new: Scaling) -> list[float]:
    """The series as it would have been under ``new``: a point at the current floor is
    taken as demand at or below it (so it moves to the new floor), a point above the
    floor keeps its value (raised to the new floor, capped at the new max), and with a
    new minimum of 0 every run at the floor longer than SecondsUntilAutoPause pauses
    after that many seconds."""
    old_floor, new_floor = floor_of(current), floor_of(new)
    out: list[float] = []
    for v in values:
        if v < PAUSED_BELOW:
            out.append(0.0 if new.pausable else new_floor)
        elif v <= old_floor + FLOOR_SLACK:
            out.append(new_floor)
        else:
            out.append(min(max(v, new_floor), new.max_capacity))
    if new.pausable:
        wait = max(1, math.ceil((new.seconds_until_auto_pause or DEFAULT_PAUSE_SECONDS) / period_s))
        run = 0
        for i, v in enumerate(values):
            at_floor = PAUSED_BELOW <= v <= old_floor + FLOOR_SLACK
            run = run + 1 if at_floor else 0
            if at_floor and run > wait:
                out[i] = 0.0
    return out


def monthly_usd(acu_hours: float, hours_observed: float, price: float) -> float:
    """ACU-hours seen over ``hours_observed``, scaled to a 730-hour month, in USD."""
    if hours_observed <= 0:
        return 0.0
    return round(acu_hours * HOURS_PER_MONTH / hours_observed * price, 2)


def cost(series: Sequence[CapacityStats], prices: Prices, current: Scaling, new: Scaling) -> float:
    """Monthly compute cost of every instance under ``new`` (``current`` = as observed)."""
    total = 0.0
    for s in series:
        values = s.values if new == current else simulate(s.values, s.period_s, current, new)
        total += monthly_usd(sum(values) * s.period_s / 3600, s.hours_observed, prices.acu_hour)
    return round(total, 2)


def half_step(value: float) -> float:
    """Rounded up to the next 0.5 ACU."""
    return math.ceil(value * 2 - 1e-9) / 2


def supports_pause(engine_version: str) -> bool | None:
    """Whether this aurora-postgresql version accepts MinCapacity 0 (None: unknown)."""
    m = re.match(r"^(\d+)\.(\d+)", engine_version or "")
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    if major > max(PAUSE_VERSIONS):
        return True
    first = PAUSE_VERSIONS.get(major)
    return first is not None and (major, minor) >= first


def validate(min_capacity: float, max_capacity: float, seconds: int | None) -> None:
    """The API's own rules, before any call: half steps, 0..256, min <= max, 300..86400."""
    for name, value in (("--min", min_capacity), ("--max", max_capacity)):
        if not 0 <= value <= ACU_LIMIT or (value * 2) != int(value * 2):
            raise InvalidInput(f"{name} {value:g} must be 0 to {ACU_LIMIT:g} ACU in steps of 0.5")
    if max_capacity < max(min_capacity, 1.0):
        raise InvalidInput(
            f"--max {max_capacity:g} must be at least --min {min_capacity:g} and at least 1 ACU"
        )
    if seconds is not None:
        low, high = PAUSE_SECONDS
        if not low <= seconds <= high:
            raise InvalidInput(f"--seconds-until-auto-pause {seconds} must be {low} to {high}")
        if min_capacity != 0:
            raise InvalidInput("--seconds-until-auto-pause needs --min 0 (auto-pause)")


def io_break_even(
    read_ios: float,
    write_ios: float,
    storage_bytes: float,
    acu_hours: float,
    hours_observed: float,
    prices: Prices,
    storage_type: str,
) -> IoBreakEven:
    """Monthly Standard vs I/O-Optimized bills from the window's I/O, storage and ACUs."""
    scale = HOURS_PER_MONTH / hours_observed if hours_observed > 0 else 0.0
    reads, writes, acu = read_ios * scale, write_ios * scale, acu_hours * scale
    gb = storage_bytes / 1024**3
    io_usd = (reads + writes) / 1e6 * prices.io_million
    standard = acu * prices.acu_hour + gb * prices.storage_gb_month + io_usd
    optimized = acu * prices.io_optimized_acu_hour + gb * prices.io_optimized_storage_gb_month
    share = io_usd / standard if standard else 0.0
    current = "I/O-Optimized" if storage_type == "aurora-iopt1" else "Aurora Standard"
    better = "I/O-Optimized" if optimized < standard else "Aurora Standard"
    advice = (
        f"I/O is {share:.0%} of the Standard bill (AWS: I/O-Optimized pays off above about "
        f"25%); {better} is cheaper by ${abs(standard - optimized):,.2f}/month"
        + ("" if better == current else f" (the cluster uses {current})")
    )
    return IoBreakEven(
        read_ios=round(reads),
        write_ios=round(writes),
        storage_gb=round(gb, 3),
        acu_hours=round(acu, 2),
        standard_usd=round(standard, 2),
        io_optimized_usd=round(optimized, 2),
        io_share=round(share, 4),
        storage_type=storage_type or "aurora",
        advice=advice,
    )
