"""What ``auroractl capacity`` knows and reports: scaling range, prices, statistics.

Imported by every other module of the package and importing none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auroractl.errors import InvalidInput
from auroractl.ops.shared.serverless import (
    DEFAULT_PAUSE_SECONDS,
    MAX_CONNECTIONS_LOW_MIN_CAP,
    PINNED_FLOOR_ACU,
    PINNING_PARAMS,
    RESUME_SECONDS,
    InstanceState,
    PauseState,
    Scaling,
)

HOURS_PER_MONTH = 730.0  # AWS's pricing month (8,760 h / 12)
ACU_LIMIT = 256.0  # recent engine versions (128 on older ones)
PAUSE_SECONDS = (300, 86_400)  # SecondsUntilAutoPause bounds
PI_MIN_ACU = 2.0  # AWS recommends at least 2 ACU with Performance Insights
PINNED_SHARE = 0.95  # a point at >= 95% of MaxCapacity counts as "at the maximum"
# First versions with MinCapacity 0 (auto-pause), per major version of aurora-postgresql.
PAUSE_VERSIONS = {13: (13, 15), 14: (14, 12), 15: (15, 7), 16: (16, 3)}


@dataclass(frozen=True)
class Prices:
    """USD prices; [capacity] in auroractl.toml overrides each (region / date included)."""

    acu_hour: float = 0.12
    io_million: float = 0.20
    storage_gb_month: float = 0.10
    io_optimized_acu_hour: float = 0.156
    io_optimized_storage_gb_month: float = 0.225
    region: str = "us-east-1"
    as_of: str = "2026-06 (aws.amazon.com/rds/aurora/pricing, on-demand, Aurora Standard)"

    KEYS = (
        "acu_hour",
        "io_million",
        "storage_gb_month",
        "io_optimized_acu_hour",
        "io_optimized_storage_gb_month",
    )


def prices(section: Mapping[str, Any] | None) -> Prices:
    """``[capacity]`` prices over the defaults; unknown keys and bad numbers are errors."""
    values: dict[str, Any] = {}
    known = (*Prices.KEYS, "region", "as_of")
    for key, value in (section or {}).items():
        if key not in known:
            raise InvalidInput(
                f"unknown [capacity] setting {key!r}", hint="known: " + ", ".join(known)
            )
        if key in Prices.KEYS and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            raise InvalidInput(f"[capacity] {key} = {value!r} must be a number >= 0")
        if key not in Prices.KEYS and not isinstance(value, str):
            raise InvalidInput(f"[capacity] {key} = {value!r} must be a string")
        values[key] = float(value) if key in Prices.KEYS else value
    if values and not {"region", "as_of"} & set(values):
        values.setdefault("as_of", "set in auroractl.toml [capacity]")
    return Prices(**values)


@dataclass(frozen=True)
class CapacityStats:
    """One instance's ServerlessDatabaseCapacity over the window."""

    instance: str
    role: str
    points: int
    period_s: int
    p50: float | None
    p95: float | None
    maximum: float | None
    mean: float | None
    hours_observed: float
    acu_hours: float
    share_at_max: float  # of the observed time
    share_at_min: float
    share_paused: float
    timestamps: tuple[dt.datetime, ...] = field(default=(), repr=False)
    values: tuple[float, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Recommendation:
    min_capacity: float
    max_capacity: float
    current_monthly_usd: float
    recommended_monthly_usd: float
    reasons: tuple[str, ...]
    consequences: tuple[str, ...]

    @property
    def monthly_difference_usd(self) -> float:
        return round(self.recommended_monthly_usd - self.current_monthly_usd, 2)


@dataclass(frozen=True)
class IoBreakEven:
    """Aurora Standard vs I/O-Optimized for this cluster, per month, with the inputs used."""

    read_ios: float
    write_ios: float
    storage_gb: float
    acu_hours: float
    standard_usd: float
    io_optimized_usd: float
    io_share: float  # I/O's share of the Standard bill
    storage_type: str
    advice: str


@dataclass(frozen=True)
class CapacityReport:
    cluster_id: str
    days: float
    period_s: int
    scaling: Scaling | None
    prices: Prices
    instances: tuple[CapacityStats, ...]
    recommendation: Recommendation | None
    io: IoBreakEven | None
    notes: tuple[str, ...] = ()
    api_calls: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Blocker:
    """One thing that keeps the cluster from pausing (or could not be checked)."""

    check: str
    status: str  # blocks | ok | unknown | skipped
    detail: str


@dataclass(frozen=True)
class PauseReport:
    cluster_id: str
    scaling: Scaling | None
    paused: bool
    blockers: tuple[Blocker, ...]
    wake_cost_acu_seconds: float
    wake_cost_usd: float
    wake_detail: str

    @property
    def blocking(self) -> tuple[Blocker, ...]:
        return tuple(b for b in self.blockers if b.status == "blocks")


__all__ = [
    "DEFAULT_PAUSE_SECONDS",
    "MAX_CONNECTIONS_LOW_MIN_CAP",
    "PINNED_FLOOR_ACU",
    "PINNING_PARAMS",
    "RESUME_SECONDS",
    "InstanceState",
    "PauseState",
    "Scaling",
]
