"""CloudWatch series of an Aurora cluster: every instance's metrics in ONE batched call.

``cluster_metrics`` discovers the cluster's instances and their roles with
``describe_db_clusters`` (DBClusterMembers / IsClusterWriter) and then fetches the
last ``hours`` of the per-instance metrics plus the cluster-level ``VolumeBytesUsed``
with ``get_metric_data`` (one call for up to 500 queries; more are batched, and
``NextToken`` pages are followed). Shared by alarms, params and health.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from auroractl import aws
from auroractl.errors import InvalidInput

NAMESPACE = "AWS/RDS"
PERIOD_S = 60
MAX_QUERIES_PER_CALL = 500  # GetMetricData limit

# metric -> (unit, statistic). Units are CloudWatch's for these AWS/RDS metrics.
INSTANCE_METRICS: dict[str, tuple[str, str]] = {
    "ServerlessDatabaseCapacity": ("Count", "Average"),
    "ACUUtilization": ("Percent", "Average"),
    "CPUUtilization": ("Percent", "Average"),
    "DatabaseConnections": ("Count", "Average"),
    "Deadlocks": ("Count/Second", "Average"),
    "FreeableMemory": ("Bytes", "Average"),
    "FreeLocalStorage": ("Bytes", "Average"),
    "ReadLatency": ("Seconds", "Average"),
    "WriteLatency": ("Seconds", "Average"),
}
CLUSTER_METRICS: dict[str, tuple[str, str]] = {
    "VolumeBytesUsed": ("Bytes", "Average"),
}


@dataclass(frozen=True)
class MetricSeries:
    metric: str  # e.g. "ACUUtilization"
    instance: str | None  # DBInstanceIdentifier, None for cluster-level
    role: str | None  # "WRITER" / "READER" / None
    unit: str
    timestamps: tuple[dt.datetime, ...]
    values: tuple[float, ...]

    @property
    def minimum(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def average(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    @property
    def maximum(self) -> float | None:
        return max(self.values) if self.values else None


@dataclass(frozen=True)
class Member:
    instance: str
    role: str  # WRITER | READER


@dataclass(frozen=True)
class _Query:
    id: str
    metric: str
    instance: str | None
    role: str | None
    unit: str
    stat: str
    period: int = PERIOD_S


def members(cluster: dict[str, Any]) -> list[Member]:
    """Writer first, then readers, each sorted by name."""
    found = [
        Member(m["DBInstanceIdentifier"], "WRITER" if m.get("IsClusterWriter") else "READER")
        for m in cluster.get("DBClusterMembers", [])
    ]
    return sorted(found, key=lambda m: (m.role != "WRITER", m.instance))


def build_queries(cluster_id: str, instances: list[Member]) -> list[_Query]:
    queries: list[_Query] = []
    for i, member in enumerate(instances):
        for j, (metric, (unit, stat)) in enumerate(INSTANCE_METRICS.items()):
            queries.append(_Query(f"i{i}m{j}", metric, member.instance, member.role, unit, stat))
    for j, (metric, (unit, stat)) in enumerate(CLUSTER_METRICS.items()):
        queries.append(_Query(f"c{j}", metric, None, None, unit, stat))
    return queries


def query(
    id: str,
    metric: str,
    instance: str | None,
    stat: str,
    *,
    period: int = PERIOD_S,
    role: str | None = None,
    unit: str = "",
) -> _Query:
    """One series for ``fetch``: an instance's (``instance``) or the cluster's (None)."""
    return _Query(id, metric, instance, role, unit, stat, period)


def _metric_query(q: _Query, cluster_id: str) -> dict[str, Any]:
    if q.instance is None:
        dims = [{"Name": "DBClusterIdentifier", "Value": cluster_id}]
    else:
        dims = [{"Name": "DBInstanceIdentifier", "Value": q.instance}]
    return {
        "Id": q.id,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": q.metric, "Dimensions": dims},
            "Period": q.period,
            "Stat": q.stat,
        },
        "ReturnData": True,
    }


def fetch(
    cw: Any,
    cluster_id: str,
    queries: list[_Query],
    start: dt.datetime,
    end: dt.datetime,
) -> list[MetricSeries]:
    """Run ``queries`` with as few ``get_metric_data`` calls as the API allows."""
    points: dict[str, list[tuple[dt.datetime, float]]] = {q.id: [] for q in queries}
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        batch = queries[first : first + MAX_QUERIES_PER_CALL]
        request: dict[str, Any] = {
            "MetricDataQueries": [_metric_query(q, cluster_id) for q in batch],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            try:
                response = cw.get_metric_data(**request)
            except Exception as exc:
                raise aws.aws_error(exc, f"CloudWatch metrics of {cluster_id}") from None
            for result in response.get("MetricDataResults", []):
                if result["Id"] in points:
                    points[result["Id"]].extend(
                        zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                    )
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    out = []
    for q in queries:
        series = sorted(dict(points[q.id]).items())  # de-duplicate, oldest first
        out.append(
            MetricSeries(
                metric=q.metric,
                instance=q.instance,
                role=q.role,
                unit=q.unit,
                timestamps=tuple(t for t, _ in series),
                values=tuple(float(v) for _, v in series),
            )
        )
    return out


def cluster_metrics(
    cluster_id: str,
    region: str | None,
    *,
    hours: float = 3.0,
    endpoint_url: str | None = None,
    now: dt.datetime | None = None,
    rds_client: Any = None,
    cloudwatch_client: Any = None,
) -> list[MetricSeries]:
    """The last ``hours`` of each instance's metrics (writer first) and VolumeBytesUsed.

    ``rds_client`` / ``cloudwatch_client`` let a caller reuse (or instrument) clients.
    """
    if not hours > 0 or hours > 24 * 455:
        raise InvalidInput(f"metrics window {hours} h must be > 0 and at most 455 days")
    rds = rds_client or aws.client("rds", region, endpoint_url)
    cw = cloudwatch_client or aws.client("cloudwatch", region, endpoint_url)
    end = now or dt.datetime.now(dt.UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    start = end - dt.timedelta(hours=hours)
    instances = members(aws.describe_cluster(rds, cluster_id))
    return fetch(cw, cluster_id, build_queries(cluster_id, instances), start, end)
