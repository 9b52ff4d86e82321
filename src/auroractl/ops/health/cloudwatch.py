"""Section 12 of ``auroractl health``: the cluster's CloudWatch series (via ops.cloudwatch).

Never crashes health: a missing module or a failing AWS call makes the section UNKNOWN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from auroractl.ops.health.model import OK, TITLES, UNKNOWN, WARN, Finding, Section

TITLE = TITLES["cloudwatch"]


def _stat(series: Any, name: str) -> float | None:
    value = getattr(series, name, None)
    if value is None and series.values:
        values = list(series.values)
        value = {"minimum": min, "maximum": max}.get(name, lambda v: sum(v) / len(v))(values)
    return None if value is None else round(float(value), 3)


def _series(s: Any) -> dict[str, Any]:
    return {
        "metric": s.metric,
        "instance": s.instance,
        "role": s.role,
        "unit": s.unit,
        "minimum": _stat(s, "minimum"),
        "average": _stat(s, "average"),
        "maximum": _stat(s, "maximum"),
        "timestamps": [t.isoformat() for t in s.timestamps],
        "values": [float(v) for v in s.values],
    }


def _pinned(s: Any, item: dict[str, Any], th: Mapping[str, float]) -> Finding | None:
    """An instance at its max ACU most of the time: Serverless v2 cannot scale further."""
    if s.metric != "ACUUtilization" or not s.values:
        return None
    pinned = sum(1 for v in s.values if v >= th["acu_pinned_pct"])
    share = round(100.0 * pinned / len(s.values), 1)
    item["pinned_share_pct"] = share
    if share < th["acu_pinned_share_pct"]:
        return None
    who = s.instance or "cluster"
    return Finding(
        WARN,
        f"ACUUtilization >= {th['acu_pinned_pct']:g}% in {share}% of the last "
        f"{th['cloudwatch_hours']:g} h: {who} is pinned at its max ACU; "
        "raise MaxCapacity or reduce load",
        who,
        {"pinned_share_pct": share},
    )


def section(
    cluster_id: str,
    region: str | None,
    endpoint_url: str | None,
    th: Mapping[str, float],
    now: dt.datetime | None = None,
) -> Section:
    thresholds = {k: th[k] for k in ("cloudwatch_hours", "acu_pinned_pct", "acu_pinned_share_pct")}
    try:
        from auroractl.ops.shared import cloudwatch
    except ImportError:
        return Section(
            "cloudwatch",
            TITLE,
            UNKNOWN,
            "could not check: CloudWatch support (auroractl.ops.cloudwatch) is not installed",
            thresholds=thresholds,
        )
    try:
        series = cloudwatch.cluster_metrics(
            cluster_id,
            region,
            hours=float(th["cloudwatch_hours"]),
            endpoint_url=endpoint_url,
            now=now,
        )
    except Exception as exc:  # AWS errors, credentials, throttling: report, never crash health
        text = " ".join(str(exc).split())[:300]
        return Section(
            "cloudwatch",
            TITLE,
            UNKNOWN,
            f"could not check: {type(exc).__name__}: {text}",
            thresholds=thresholds,
        )
    data = [_series(s) for s in series]
    findings = [f for s, item in zip(series, data, strict=True) if (f := _pinned(s, item, th))]
    status = WARN if findings else OK
    with_data = sum(1 for s in series if s.values)
    summary = (
        f"{len(series)} series for cluster {cluster_id} over {th['cloudwatch_hours']:g} h "
        f"({with_data} with data)"
    )
    if not with_data:
        status = UNKNOWN
        summary = f"could not check: no CloudWatch datapoints for cluster {cluster_id}"
    return Section(
        "cloudwatch", TITLE, status, summary, tuple(findings), thresholds, {"series": data}
    )
