"""Pure: MinCapacity / MaxCapacity recommendations from the observed series, with the
monthly cost difference and what the change brings with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from auroractl.ops.capacity.compute import cost, floor_of, half_step
from auroractl.ops.capacity.model import (
    ACU_LIMIT,
    DEFAULT_PAUSE_SECONDS,
    PI_MIN_ACU,
    PINNED_FLOOR_ACU,
    PINNING_PARAMS,
    RESUME_SECONDS,
    CapacityStats,
    Prices,
    Recommendation,
    Scaling,
)
from auroractl.ops.shared.serverless import max_connections

IDLE_SHARE = 0.2  # at the floor this much of the time: the floor is what you pay for


@dataclass(frozen=True)
class Facts:
    """What besides the series a recommendation depends on."""

    supports_pause: bool | None = None  # engine version accepts MinCapacity 0
    performance_insights: bool = False
    pinning: Mapping[str, str] = field(default_factory=dict)  # param -> non-default value
    instances: tuple[str, ...] = ()  # what a reboot means


def _max(series: Sequence[CapacityStats], cur: Scaling) -> tuple[float, str | None]:
    pinned = max((s.share_at_max for s in series), default=0.0)
    peak = max((s.maximum or 0.0 for s in series), default=0.0)
    if pinned >= 0.05:
        new = min(ACU_LIMIT, half_step(cur.max_capacity * 2))
        return new, f"pinned at the maximum {pinned:.1%} of the time: raise MaxCapacity"
    if pinned >= 0.01:
        new = min(ACU_LIMIT, half_step(cur.max_capacity * 1.5))
        return new, f"at the maximum {pinned:.1%} of the time: raise MaxCapacity"
    if series and peak and peak < 0.5 * cur.max_capacity:
        new = max(half_step(peak * 1.5), 1.0)
        if new < cur.max_capacity:
            return new, (
                f"peak {peak:g} ACU is under half of MaxCapacity {cur.max_capacity:g}: "
                f"{new:g} leaves 50% headroom and caps a runaway bill"
            )
    return cur.max_capacity, None


def _min(series: Sequence[CapacityStats], cur: Scaling, facts: Facts) -> tuple[float, str | None]:
    required = 0.0
    why: list[str] = []
    if facts.performance_insights:
        required = PI_MIN_ACU
        why.append(f"Performance Insights is on (AWS recommends at least {PI_MIN_ACU:g} ACU)")
    if facts.pinning:
        required = max(required, PINNED_FLOOR_ACU)
        why.append(
            f"{', '.join(facts.pinning)} keeps capacity above about {PINNED_FLOOR_ACU:g} ACU"
        )
    idle = max((s.share_at_min for s in series), default=0.0)
    if required > cur.min_capacity:
        return required, "; ".join(why)
    if idle >= IDLE_SHARE:
        low = 0.0 if facts.supports_pause and not required else max(required, 0.5)
        if low < cur.min_capacity:
            what = "auto-pause (MinCapacity 0)" if low == 0 else f"MinCapacity {low:g}"
            return low, f"at the minimum {idle:.0%} of the time: {what} bills less idle time"
    return cur.min_capacity, None


def recommend(
    series: Sequence[CapacityStats], cur: Scaling, prices: Prices, facts: Facts
) -> Recommendation:
    new_max, max_why = _max(series, cur)
    new_min, min_why = _min(series, cur, facts)
    new_max = max(new_max, new_min, 1.0)  # the API wants max >= min and >= 1
    seconds = (cur.seconds_until_auto_pause or DEFAULT_PAUSE_SECONDS) if new_min == 0 else None
    new = Scaling(new_min, new_max, seconds)
    current_usd = cost(series, prices, cur, cur)
    new_usd = cost(series, prices, cur, new)
    reasons = tuple(r for r in (min_why, max_why) if r) or ("the current range fits the load",)
    return Recommendation(
        new_min, new_max, current_usd, new_usd, reasons, consequences(cur, new, facts)
    )


def consequences(cur: Scaling, new: Scaling, facts: Facts) -> tuple[str, ...]:
    """What a change of range brings: max_connections and its reboot, PI, pinning, pause."""
    out: list[str] = []
    before = max_connections(cur.max_capacity, cur.min_capacity)
    after = max_connections(new.max_capacity, new.min_capacity)
    if before != after:
        capped = " (capped at 2,000 with a minimum of 0 or 0.5)" if new.min_capacity <= 0.5 else ""
        out.append(
            f"max_connections is static and derived from the maximum: about {before:,} -> "
            f"about {after:,}{capped}; it changes only after a reboot of "
            f"{', '.join(facts.instances) or 'every instance'}"
        )
    if facts.performance_insights and new.min_capacity < PI_MIN_ACU:
        out.append(
            f"Performance Insights / Database Insights is on: AWS recommends a minimum of "
            f"{PI_MIN_ACU:g} ACU"
        )
    for name, value in facts.pinning.items():
        out.append(
            f"{name} = {value} (default {PINNING_PARAMS.get(name, '?')}) keeps capacity from "
            f"scaling below about {PINNED_FLOOR_ACU:g} ACU whatever the minimum"
        )
    if new.min_capacity == 0 and cur.min_capacity != 0:
        if facts.supports_pause is False:
            out.append("this engine version does not accept MinCapacity 0: upgrade it first")
        out.append(
            f"auto-pause: a paused instance takes up to about {RESUME_SECONDS} s to resume "
            "and any connection attempt resumes it (auroractl capacity pause lists what "
            "keeps it awake)"
        )
    if floor_of(new) < floor_of(cur):
        out.append("a lower floor holds less of the cache: the first queries after idle are slower")
    return tuple(out)
