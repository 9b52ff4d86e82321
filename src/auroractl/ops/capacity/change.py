"""``capacity apply``: one ModifyDBCluster call, its plan stating the consequences."""

from __future__ import annotations

from typing import Any

from auroractl import aws
from auroractl.ops.capacity import cloud, compute
from auroractl.ops.capacity.recommend import Facts, consequences
from auroractl.ops.shared.serverless import Scaling
from auroractl.plan import AwsAction


def plan_apply(
    rds: Any,
    cluster_id: str,
    min_capacity: float,
    max_capacity: float,
    seconds_until_auto_pause: int | None = None,
) -> AwsAction:
    """modify_db_cluster(ServerlessV2ScalingConfiguration=...) applied immediately; an
    empty action when the range is already this one."""
    compute.validate(min_capacity, max_capacity, seconds_until_auto_pause)
    f = cloud.facts(rds, cluster_id)
    cur = f.scaling
    seconds = seconds_until_auto_pause
    if min_capacity == 0 and seconds is None:
        seconds = cur.seconds_until_auto_pause or 300
    new = Scaling(min_capacity, max_capacity, seconds if min_capacity == 0 else None)
    same = (cur.min_capacity, cur.max_capacity) == (new.min_capacity, new.max_capacity) and (
        not new.pausable or cur.seconds_until_auto_pause == new.seconds_until_auto_pause
    )
    if same:
        return AwsAction(
            "capacity apply",
            f"{cluster_id} already scales {cur.describe()}: nothing to do",
            rds.meta.region_name,
        )
    notes = list(
        consequences(
            cur,
            new,
            Facts(
                supports_pause=compute.supports_pause(f.engine_version),
                performance_insights=f.performance_insights,
                pinning=cloud.pinning(f.parameters),
                instances=tuple(m.instance for m in f.members),
            ),
        )
    )
    if not any(n.startswith("max_connections") for n in notes):
        notes.append("max_connections does not change: no reboot needed")
    config: dict[str, Any] = {"MinCapacity": new.min_capacity, "MaxCapacity": new.max_capacity}
    if new.pausable:
        config["SecondsUntilAutoPause"] = new.seconds_until_auto_pause
    call = aws.call(
        rds,
        "modify_db_cluster",
        cluster_id,
        f"DB cluster {cluster_id}",
        DBClusterIdentifier=cluster_id,
        ServerlessV2ScalingConfiguration=config,
        ApplyImmediately=True,
    )
    summary = f"scale {cluster_id} {new.describe()} (was {cur.describe()})"
    return AwsAction("capacity apply", summary, rds.meta.region_name, (call,), tuple(notes))
