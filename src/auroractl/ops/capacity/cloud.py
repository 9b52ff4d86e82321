"""The AWS side of ``auroractl capacity``: the cluster's facts and its CloudWatch history,
in as few calls as the APIs allow (one batched get_metric_data for every series)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from auroractl import aws
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.capacity.model import PINNING_PARAMS
from auroractl.ops.shared import cloudwatch, serverless

# CloudWatch keeps 1-minute points 15 days, 5-minute points 63 days, hourly 455 days.
RETENTION = ((15, 60), (63, 300), (455, 3600))


@dataclass(frozen=True)
class ClusterFacts:
    cluster_id: str
    cluster: dict[str, Any]
    scaling: serverless.Scaling
    members: tuple[cloudwatch.Member, ...]
    engine_version: str
    storage_type: str
    performance_insights: bool
    parameters: dict[str, str]  # the cluster parameter group's values auroractl looks at


@dataclass(frozen=True)
class History:
    period_s: int
    capacity: tuple[cloudwatch.MetricSeries, ...]  # one per instance, writer first
    read_ios: float
    write_ios: float
    storage_bytes: float
    hours: float


def period_for(days: float, period: int | None) -> int:
    """The finest period CloudWatch still holds for a window that long (or the given one)."""
    if not 0 < days <= 455:
        raise InvalidInput(f"--days {days:g} must be more than 0 and at most 455")
    finest = next(p for limit, p in RETENTION if days <= limit)
    if period is None:
        return finest
    if period < 60 or period % 60:
        raise InvalidInput(f"--period {period} must be a multiple of 60 seconds")
    if period < finest:
        raise InvalidInput(
            f"--period {period}: CloudWatch keeps {days:g} days only at {finest} s or coarser"
        )
    return period


def facts(rds: Any, cluster_id: str, *, want: tuple[str, ...] = ()) -> ClusterFacts:
    """describe_db_clusters, describe_db_instances (Performance Insights) and the cluster
    parameter group's values of ``want`` (plus the parameters that pin capacity)."""
    cluster = aws.describe_cluster(rds, cluster_id)
    scale = serverless.scaling(cluster)
    if scale is None:
        raise Precondition(
            f"DB cluster {cluster_id} is not Aurora Serverless v2 "
            "(it reports no ServerlessV2ScalingConfiguration)"
        )
    instances = aws.paginate(
        rds,
        "describe_db_instances",
        "DBInstances",
        f"instances of {cluster_id}",
        Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}],
    )
    return ClusterFacts(
        cluster_id,
        cluster,
        scale,
        tuple(cloudwatch.members(cluster)),
        cluster.get("EngineVersion") or "",
        cluster.get("StorageType") or "aurora",
        any(i.get("PerformanceInsightsEnabled") for i in instances),
        parameters(rds, cluster, (*PINNING_PARAMS, *want)),
    )


def parameters(rds: Any, cluster: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """Values of ``names`` set in the cluster parameter group (absent: engine default)."""
    group = cluster.get("DBClusterParameterGroup")
    if not group:
        return {}
    try:
        found = aws.paginate(
            rds,
            "describe_db_cluster_parameters",
            "Parameters",
            f"DB cluster parameter group {group!r}",
            DBClusterParameterGroupName=group,
        )
    except NotFound:  # a default group AWS has and moto does not: engine defaults
        return {}
    return {
        p["ParameterName"]: str(p["ParameterValue"])
        for p in found
        if p.get("ParameterName") in names and p.get("ParameterValue") is not None
    }


def pinning(params: dict[str, str]) -> dict[str, str]:
    """The parameters set away from their default that keep capacity from scaling down."""
    return {n: v for n, v in params.items() if n in PINNING_PARAMS and v != PINNING_PARAMS[n]}


def history(
    cw: Any,
    f: ClusterFacts,
    days: float,
    period: int,
    now: dt.datetime | None = None,
) -> History:
    """ServerlessDatabaseCapacity per instance at ``period``, and the volume's billed
    read / write I/O (Sum) and VolumeBytesUsed at a coarse period: one batched call."""
    end = now or dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=days)
    io_period = 3600 if days <= 2 else 86_400
    queries = [
        cloudwatch.query(
            f"c{i}", "ServerlessDatabaseCapacity", m.instance, "Average",
            period=period, role=m.role, unit="Count",
        )
        for i, m in enumerate(f.members)
    ]  # fmt: skip
    queries += [
        cloudwatch.query("ior", "VolumeReadIOPs", None, "Sum", period=io_period, unit="Count"),
        cloudwatch.query("iow", "VolumeWriteIOPs", None, "Sum", period=io_period, unit="Count"),
        cloudwatch.query("vol", "VolumeBytesUsed", None, "Average", period=io_period, unit="Bytes"),
    ]
    series = cloudwatch.fetch(cw, f.cluster_id, queries, start, end)
    by_metric = {s.metric: s for s in series if s.instance is None}
    volume = by_metric["VolumeBytesUsed"].values
    return History(
        period,
        tuple(s for s in series if s.instance is not None),
        sum(by_metric["VolumeReadIOPs"].values),
        sum(by_metric["VolumeWriteIOPs"].values),
        sum(volume) / len(volume) if volume else 0.0,
        days * 24,
    )
