"""``auroractl capacity``: Serverless v2 right-sizing from CloudWatch, what keeps a cluster
from pausing, and changing its range through the change pipeline.

``model`` holds what a report is, ``compute`` and ``recommend`` the pure arithmetic,
``cloud`` the AWS reads, ``blockers`` the pause report, ``change`` the ModifyDBCluster
action and ``chart`` the HTML page. Whether a cluster is paused is
``ops.shared.serverless`` (health and alarms read it too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auroractl.ops.capacity import cloud, compute
from auroractl.ops.capacity.model import CapacityReport, PauseReport, Prices, prices
from auroractl.ops.capacity.recommend import Facts, recommend

__all__ = ["CapacityReport", "PauseReport", "Prices", "as_data", "prices", "report"]


def report(
    rds: Any,
    cw: Any,
    cluster_id: str,
    *,
    days: float = 14,
    period: int | None = None,
    price: Prices | None = None,
    now: dt.datetime | None = None,
) -> CapacityReport:
    """Statistics per instance, a recommended range with its monthly cost difference and
    consequences, and the I/O-Optimized break-even, from ``days`` of CloudWatch."""
    step = cloud.period_for(days, period)
    price = price or Prices()
    f = cloud.facts(rds, cluster_id)
    h = cloud.history(cw, f, days, step, now)
    series = tuple(
        compute.stats(s.instance or "", s.role or "", s.timestamps, s.values, step, f.scaling)
        for s in h.capacity
    )
    facts = Facts(
        supports_pause=compute.supports_pause(f.engine_version),
        performance_insights=f.performance_insights,
        pinning=cloud.pinning(f.parameters),
        instances=tuple(m.instance for m in f.members),
    )
    notes = []
    if not any(s.points for s in series):
        notes.append(
            f"no ServerlessDatabaseCapacity datapoints in {days:g} days: nothing to recommend"
        )
    rec = recommend(series, f.scaling, price, facts) if any(s.points for s in series) else None
    acu_hours = sum(s.acu_hours for s in series)
    io = compute.io_break_even(
        h.read_ios, h.write_ios, h.storage_bytes, acu_hours, h.hours, price, f.storage_type
    )
    return CapacityReport(cluster_id, days, step, f.scaling, price, series, rec, io, tuple(notes))


def as_data(r: CapacityReport) -> dict[str, Any]:
    """The report as one JSON-ready document (statistics, not the raw points)."""
    import dataclasses

    rec = r.recommendation
    return {
        "cluster_id": r.cluster_id,
        "days": r.days,
        "period_s": r.period_s,
        "scaling": dataclasses.asdict(r.scaling) if r.scaling else None,
        "prices": dataclasses.asdict(r.prices),
        "instances": [
            {k: v for k, v in dataclasses.asdict(s).items() if k not in ("timestamps", "values")}
            for s in r.instances
        ],
        "recommendation": (
            {**dataclasses.asdict(rec), "monthly_difference_usd": rec.monthly_difference_usd}
            if rec
            else None
        ),
        "io_optimized": dataclasses.asdict(r.io) if r.io else None,
        "notes": list(r.notes),
    }
