"""Aurora Serverless v2 facts every feature may need, read WITHOUT a database connection.

A paused instance resumes on any connection attempt (even a failed one), which takes up
to about 15 s and bills capacity, so whether it is paused is read from AWS only: the
cluster's ``ServerlessV2ScalingConfiguration`` (``describe_db_clusters``) and each
instance's latest ``ServerlessDatabaseCapacity`` datapoint (CloudWatch). The instance
status does not say "paused" (it stays ``available``): capacity 0 does. An instance with
no datapoint in the last minutes is ``unknown``, never taken for paused. The cluster is
paused when its writer is: the writer and the readers in promotion tiers 0-1 pause and
resume together, and a DSN names the writer (or the cluster endpoint).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from auroractl import aws
from auroractl.ops.shared import cloudwatch

DEFAULT_PAUSE_SECONDS = 300
RESUME_SECONDS = 15  # "up to about 15 s" (AWS user guide: auto-pause)
# Connect timeout that allows for a resume: AWS advises client timeouts above ~15 s.
WAKE_CONNECT_TIMEOUT_S = 45
PAUSED_BELOW = 0.05  # ACUs: a datapoint this low is a paused instance
RECENT_MINUTES = 10  # how far back the latest datapoint is looked for
# max_connections of Serverless v2 (PostgreSQL) by MaxCapacity, from the AWS user guide's
# table; between two rows auroractl interpolates (an estimate: SHOW max_connections).
MAX_CONNECTIONS = ((1.0, 189), (4.0, 823), (8.0, 1669), (16.0, 3360), (32.0, 5000))
MAX_CONNECTIONS_LOW_MIN_CAP = 2000  # with MinCapacity 0 or 0.5
# Parameters that keep capacity from scaling down (below about 2 ACU) when set away from
# their default (AWS database blog on parameters that affect Serverless v2 scaling).
PINNING_PARAMS = {"max_locks_per_transaction": "64", "max_pred_locks_per_transaction": "64"}
PINNED_FLOOR_ACU = 2.0


def capacity_warnings(values: dict[str, str]) -> list[str]:
    """What in these parameter values keeps a Serverless v2 cluster from scaling down or
    pausing."""
    out = [
        f"{name} = {values[name]} (default {default}) keeps Serverless v2 capacity from "
        f"scaling below about {PINNED_FLOOR_ACU:g} ACU"
        for name, default in PINNING_PARAMS.items()
        if name in values and str(values[name]) != default
    ]
    if str(values.get("rds.logical_replication", "0")).lower() in ("1", "on"):
        out.append("rds.logical_replication = 1 keeps a Serverless v2 cluster from pausing")
    return out


@dataclass(frozen=True)
class Scaling:
    """A cluster's ServerlessV2ScalingConfiguration."""

    min_capacity: float
    max_capacity: float
    seconds_until_auto_pause: int | None = None

    @property
    def pausable(self) -> bool:
        return self.min_capacity == 0

    def describe(self) -> str:
        text = f"{self.min_capacity:g}-{self.max_capacity:g} ACU"
        if self.pausable:
            seconds = self.seconds_until_auto_pause or DEFAULT_PAUSE_SECONDS
            text += f", auto-pause after {seconds} s"
        return text


@dataclass(frozen=True)
class InstanceState:
    """Whether an instance is paused now, from its latest ServerlessDatabaseCapacity."""

    instance: str
    role: str
    state: str  # paused | active | unknown
    capacity: float | None  # ACUs of the latest datapoint
    at: dt.datetime | None  # its timestamp


@dataclass(frozen=True)
class PauseState:
    cluster_id: str
    scaling: Scaling | None  # None: not Serverless v2
    instances: tuple[InstanceState, ...]
    engine_version: str = ""

    @property
    def paused(self) -> bool:
        writer = next((i for i in self.instances if i.role == "WRITER"), None)
        return writer is not None and writer.state == "paused"

    def summary(self) -> str:
        if self.scaling is None:
            return f"cluster {self.cluster_id} is not Serverless v2 (no scaling configuration)"
        states = ", ".join(
            f"{i.instance} {i.state}" + ("" if i.capacity is None else f" ({i.capacity:g} ACU)")
            for i in self.instances
        )
        head = "paused" if self.paused else "not paused"
        return f"{head}: {self.scaling.describe()}; {states or 'no instances'}"


def scaling(cluster: dict[str, Any]) -> Scaling | None:
    """The describe_db_clusters entry's scaling range (None when it has none)."""
    cfg = cluster.get("ServerlessV2ScalingConfiguration") or {}
    if cfg.get("MaxCapacity") is None:
        return None
    seconds = cfg.get("SecondsUntilAutoPause")
    return Scaling(
        float(cfg.get("MinCapacity") or 0.0),
        float(cfg["MaxCapacity"]),
        int(seconds) if seconds is not None else None,
    )


def pause_state(rds: Any, cw: Any, cluster_id: str, now: dt.datetime | None = None) -> PauseState:
    """Each instance paused / active / unknown: one describe_db_clusters and, only when
    the minimum is 0 (nothing else pauses), one get_metric_data."""
    cluster = aws.describe_cluster(rds, cluster_id)
    scale = scaling(cluster)
    members = cloudwatch.members(cluster)
    version = cluster.get("EngineVersion") or ""
    if scale is None or not scale.pausable:
        states = tuple(InstanceState(m.instance, m.role, "active", None, None) for m in members)
        return PauseState(cluster_id, scale, states, version)
    end = now or dt.datetime.now(dt.UTC)
    queries = [
        cloudwatch.query(f"p{i}", "ServerlessDatabaseCapacity", m.instance, "Minimum", role=m.role)
        for i, m in enumerate(members)
    ]
    series = (
        cloudwatch.fetch(cw, cluster_id, queries, end - dt.timedelta(minutes=RECENT_MINUTES), end)
        if queries
        else []
    )
    return PauseState(cluster_id, scale, tuple(_state(s) for s in series), version)


def _state(s: cloudwatch.MetricSeries) -> InstanceState:
    if not s.values:
        return InstanceState(s.instance or "", s.role or "", "unknown", None, None)
    value, at = s.values[-1], s.timestamps[-1]
    state = "paused" if value < PAUSED_BELOW else "active"
    return InstanceState(s.instance or "", s.role or "", state, value, at)


def max_connections(max_capacity: float, min_capacity: float) -> int:
    """Estimated max_connections: static, from the maximum; capped with a low minimum."""
    points = MAX_CONNECTIONS
    value = float(points[-1][1])
    if max_capacity <= points[0][0]:
        value = points[0][1] * max_capacity / points[0][0]
    else:
        for (a, va), (b, vb) in itertools.pairwise(points):
            if a <= max_capacity <= b:
                value = va + (vb - va) * (max_capacity - a) / (b - a)
                break
    if min_capacity <= 0.5:
        value = min(value, MAX_CONNECTIONS_LOW_MIN_CAP)
    return round(value)
