"""Restore drills on Aurora: snapshot / PITR restore into a throwaway serverless cluster.

restore_db_cluster_* creates the cluster only: the db.serverless writer is created
next, and we wait on the cluster AND the instance (the cluster waiter can return
while the instance is still creating), then on a real connection. Teardown (instance,
wait, cluster, no final snapshot) always runs unless --keep; drill clusters carry
``auroractl:expires-at`` so that ``cleanup`` removes what a killed run left behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from auroractl import aws
from auroractl.errors import AwsError, InvalidInput, NotFound, Precondition
from auroractl.ops.drill_verify import Check, collect
from auroractl.ops.restore_test import (
    DrillConfig,
    DrillReport,
    Leftover,
    connection_kwargs,
    drill_lock,
    ensure_ledger,
    error_report,
    finish,
    record,
    run_hook,
    utcnow,
)

if TYPE_CHECKING:
    import psycopg

    from auroractl.config import Settings, Target

rds_client = partial(aws.for_target, service="rds")
aws_error = aws.aws_error
describe_cluster = aws.describe_cluster
cluster_snapshots = aws.cluster_snapshots

DRILL_PREFIX = "auroractl-drill-"
TAG_DRILL = "auroractl:drill"
TAG_EXPIRES = "auroractl:expires-at"
TAG_SOURCE = "auroractl:source-cluster"


def drill_identifier(cluster_id: str, when: dt.datetime) -> str:
    """auroractl-drill-<cluster>-<ts>, within RDS's 63 characters."""
    suffix = f"-{when:%Y%m%d%H%M%S}"
    return (DRILL_PREFIX + cluster_id)[: 60 - len(suffix)].rstrip("-") + suffix


def parse_time(value: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--pitr {value!r} is not 'latest' or an ISO timestamp") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def latest_snapshot(rds: Any, cluster_id: str) -> dict[str, Any]:
    snaps = [
        s
        for s in cluster_snapshots(rds, cluster_id)
        if s.get("Status") == "available" and s.get("SnapshotCreateTime")
    ]
    if not snaps:
        raise Precondition(f"cluster {cluster_id} has no available snapshot to restore")
    return max(snaps, key=lambda s: s["SnapshotCreateTime"])


def choose_source(
    rds: Any, cluster: dict[str, Any], snapshot: str | None, pitr: str | None
) -> tuple[str, dict[str, Any], dt.datetime]:
    """(description, restore kwargs, restore point) for a snapshot or PITR restore."""
    cluster_id = cluster["DBClusterIdentifier"]
    if pitr is not None:
        latest = cluster.get("LatestRestorableTime") or utcnow()
        earliest = cluster.get("EarliestRestorableTime")
        if pitr == "latest":
            return "pitr latest", {"UseLatestRestorableTime": True}, latest
        when = parse_time(pitr)
        if (earliest and when < earliest) or when > latest:
            raise InvalidInput(
                f"--pitr {pitr} is outside the restorable window "
                f"{earliest.isoformat() if earliest else '?'} .. {latest.isoformat()}"
            )
        return f"pitr {when.isoformat()}", {"RestoreToTime": when}, when
    if snapshot:
        try:
            snap = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot)[
                "DBClusterSnapshots"
            ][0]
        except Exception as exc:
            raise aws_error(exc, f"snapshot {snapshot}") from None
        if snap.get("Status") != "available":
            raise Precondition(f"snapshot {snapshot} is {snap.get('Status')}, not available")
    else:
        snap = latest_snapshot(rds, cluster_id)
    ident = snap["DBClusterSnapshotIdentifier"]
    return f"snapshot {ident}", {"SnapshotIdentifier": ident}, snap["SnapshotCreateTime"]


def restore_kwargs(
    cluster: dict[str, Any], cfg: DrillConfig, drill_id: str, expires: dt.datetime
) -> dict[str, Any]:
    """Shape of the drill cluster: serverless v2, the source's network and parameters."""
    kwargs: dict[str, Any] = {
        "DBClusterIdentifier": drill_id,
        "ServerlessV2ScalingConfiguration": {
            "MinCapacity": cfg.min_acu,
            "MaxCapacity": cfg.max_acu,
        },
        "Tags": [
            {"Key": TAG_DRILL, "Value": drill_id},
            {"Key": TAG_EXPIRES, "Value": expires.isoformat(timespec="seconds")},
            {"Key": TAG_SOURCE, "Value": cluster["DBClusterIdentifier"]},
        ],
    }
    subnet = cfg.db_subnet_group or cluster.get("DBSubnetGroup")
    if subnet:
        kwargs["DBSubnetGroupName"] = subnet
    sgs = cfg.security_groups
    if sgs is None:
        sgs = tuple(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", []))
    if sgs:
        kwargs["VpcSecurityGroupIds"] = list(sgs)
    params = cfg.cluster_parameter_group or cluster.get("DBClusterParameterGroup")
    if params:
        kwargs["DBClusterParameterGroupName"] = params
    return kwargs


def _wait(rds: Any, waiter: str, deadline: float, delay: int, **kwargs: Any) -> None:
    from botocore.exceptions import WaiterError

    attempts = max(1, math.ceil((deadline - time.monotonic()) / delay))
    try:
        rds.get_waiter(waiter).wait(
            **kwargs, WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
        )
    except WaiterError as exc:
        raise Precondition(f"{waiter} did not succeed in time: {exc}") from None


def drill(
    conn: psycopg.Connection,
    target: Target,
    cfg: DrillConfig,
    *,
    snapshot: str | None = None,
    pitr: str | None = None,
    keep: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
    rds: Any = None,
) -> DrillReport:
    """Restore, verify against the source connection ``conn``, tear down, record."""
    requested_at, started = utcnow(), time.monotonic()
    cluster_id = target.cluster_id or ""
    rds = rds or rds_client(target)
    drill_id = drill_identifier(cluster_id, requested_at)
    with drill_lock(conn):
        ensure_ledger(conn)
        try:
            report = _drill(
                conn,
                rds,
                cluster_id,
                drill_id,
                cfg,
                (snapshot, pitr),
                keep,
                requested_at,
                started,
                progress,
            )
        except BaseException as exc:
            with contextlib.suppress(Exception):
                record(
                    conn, error_report("aurora", cluster_id, drill_id, requested_at, started, exc)
                )
            raise
        return replace(report, id=record(conn, report))


def _drill(
    conn: psycopg.Connection,
    rds: Any,
    cluster_id: str,
    drill_id: str,
    cfg: DrillConfig,
    restore_from: tuple[str | None, str | None],
    keep: bool,
    requested_at: dt.datetime,
    started: float,
    progress: Callable[[str], None],
) -> DrillReport:
    deadline = started + cfg.timeout.total_seconds()
    cluster = describe_cluster(rds, cluster_id)
    source_desc, source_kwargs, restore_point = choose_source(rds, cluster, *restore_from)
    kwargs = restore_kwargs(cluster, cfg, drill_id, requested_at + cfg.ttl)
    engine = cluster.get("Engine", "aurora-postgresql")
    instance_id = f"{drill_id}-w"
    timings: dict[str, float] = {}
    created_cluster = created_instance = False
    teardown_note: tuple[str, ...] = ()
    try:
        progress(f"restoring {source_desc} into {drill_id}")
        t = time.monotonic()
        try:
            if "SnapshotIdentifier" in source_kwargs:
                rds.restore_db_cluster_from_snapshot(
                    Engine=engine,
                    **(
                        {"EngineVersion": cluster["EngineVersion"]}
                        if "EngineVersion" in cluster
                        else {}
                    ),
                    **source_kwargs,
                    **kwargs,
                )
            else:
                rds.restore_db_cluster_to_point_in_time(
                    SourceDBClusterIdentifier=cluster_id,
                    RestoreType="full-copy",
                    **source_kwargs,
                    **kwargs,
                )
            created_cluster = True
            progress(f"creating the db.serverless writer {instance_id}")
            rds.create_db_instance(
                DBInstanceIdentifier=instance_id,
                DBClusterIdentifier=drill_id,
                Engine=engine,
                DBInstanceClass="db.serverless",
                Tags=kwargs["Tags"],
            )
            created_instance = True
        except (AwsError, NotFound, InvalidInput, Precondition):
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("botocore"):
                raise aws_error(exc, f"restore into {drill_id}") from None
            raise
        progress(f"waiting for cluster {drill_id}")
        _wait(rds, "db_cluster_available", deadline, cfg.waiter_delay, DBClusterIdentifier=drill_id)
        progress(f"waiting for instance {instance_id}")
        _wait(
            rds,
            "db_instance_available",
            deadline,
            cfg.waiter_delay,
            DBInstanceIdentifier=instance_id,
        )
        restored = describe_cluster(rds, drill_id)
        progress("waiting for a connection to the restored cluster")
        copy = _connect_copy(conn, restored, cfg, deadline)
        timings["restore_s"] = time.monotonic() - t
        progress("verifying the restored copy")
        t = time.monotonic()
        with copy:
            run_hook(copy)
            copy_facts = collect(copy, cfg.spec, restore_point)
        source_facts = collect(conn, cfg.spec, restore_point)
        timings["verify_s"] = time.monotonic() - t
        report = finish(
            backend="aurora",
            source=cluster_id,
            restored=drill_id,
            restore_from=source_desc,
            requested_at=requested_at,
            started=started,
            restore_point=restore_point,
            source_facts=source_facts,
            copy_facts=copy_facts,
            cfg=cfg,
            timings=timings,
            extra_checks=(
                Check("restore: cluster + instance", "pass", f"{drill_id} available, connected"),
            ),
            kept=keep,
        )
    finally:
        if not keep and created_cluster:
            progress(f"tearing down {drill_id}")
            teardown_note = teardown(
                rds, drill_id, instance_id if created_instance else None, cfg.waiter_delay
            )
    if teardown_note:
        return replace(report, notes=report.notes + teardown_note)
    return replace(report, torn_down=not keep)


def _connect_copy(
    conn: psycopg.Connection, restored: dict[str, Any], cfg: DrillConfig, deadline: float
) -> psycopg.Connection:
    """A real connection to the restored cluster (same user and password as the source);
    ``restored_dsn`` (testing aid) points it elsewhere."""
    import psycopg

    if cfg.restored_dsn:
        params: dict[str, Any] = {"conninfo": cfg.restored_dsn}
    else:
        params = connection_kwargs(conn)
        params.update(host=restored.get("Endpoint"), port=restored.get("Port") or 5432)
        params.pop("hostaddr", None)
    while True:
        try:
            return psycopg.connect(**params, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            if time.monotonic() + cfg.waiter_delay > deadline:
                raise Precondition(
                    f"cannot connect to the restored cluster: {' '.join(str(exc).split())[:200]}"
                ) from None
            time.sleep(cfg.waiter_delay)


def teardown(rds: Any, cluster_id: str, instance_id: str | None, delay: int) -> tuple[str, ...]:
    """Delete the instance(s), wait, delete the cluster (no final snapshot), wait.
    Returns notes describing anything that could not be deleted (never raises)."""
    instances: set[str] = {instance_id} if instance_id else set()
    try:
        members = describe_cluster(rds, cluster_id).get("DBClusterMembers", [])
        instances |= {m["DBInstanceIdentifier"] for m in members}
    except Exception:
        pass
    try:
        for inst in sorted(instances):
            with contextlib.suppress(rds.exceptions.DBInstanceNotFoundFault):
                rds.delete_db_instance(DBInstanceIdentifier=inst, SkipFinalSnapshot=True)
        for inst in sorted(instances):
            rds.get_waiter("db_instance_deleted").wait(
                DBInstanceIdentifier=inst, WaiterConfig={"Delay": delay, "MaxAttempts": 240}
            )
        rds.delete_db_cluster(DBClusterIdentifier=cluster_id, SkipFinalSnapshot=True)
        rds.get_waiter("db_cluster_deleted").wait(
            DBClusterIdentifier=cluster_id, WaiterConfig={"Delay": delay, "MaxAttempts": 240}
        )
    except Exception as exc:
        return (
            f"teardown of {cluster_id} failed ({' '.join(str(exc).split())[:200]}); "
            "`auroractl restore-test cleanup` deletes it after its expiry",
        )
    return ()


def cleanup(
    target: Target,
    settings: Settings,
    *,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    rds: Any = None,
) -> list[Leftover]:
    """Delete drill clusters whose ``auroractl:expires-at`` has passed."""
    from auroractl.ops.restore_test import parse_expiry

    rds = rds or rds_client(target)
    now = now or utcnow()
    delay = int(settings.section("restore_test").get("waiter_delay", 30))
    result = []
    for page in rds.get_paginator("describe_db_clusters").paginate():
        for c in page["DBClusters"]:
            ident = c["DBClusterIdentifier"]
            if not ident.startswith(DRILL_PREFIX):
                continue
            tags = c.get("TagList")
            if tags is None:
                tags = rds.list_tags_for_resource(ResourceName=c["DBClusterArn"])["TagList"]
            tagmap = {t["Key"]: t["Value"] for t in tags}
            if TAG_DRILL not in tagmap:
                continue
            expires = parse_expiry(f"expires-at={tagmap.get(TAG_EXPIRES, '')}")
            expired = expires is not None and expires <= now
            if not expired:
                action = "kept (not expired)" if expires else "kept (no expires-at tag)"
            elif dry_run:
                action = "would delete"
            else:
                notes = teardown(rds, ident, None, delay)
                action = "deleted" if not notes else f"error: {notes[0]}"
            result.append(Leftover("cluster", ident, expires, expired, action))
    return result
