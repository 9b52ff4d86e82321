"""Aurora backend: a snapshot or PITR restore into a throwaway serverless cluster.

restore_db_cluster_* creates the cluster only: the db.serverless writer is created
next, and we wait on the cluster AND the instance (the cluster waiter can return
while the instance is still creating), then on a real connection. Teardown (instance,
wait, cluster, no final snapshot) is a ``plan.AwsAction`` that always runs unless
--keep; copies carry ``auroractl:expires-at`` so that ``cleanup`` removes what a
killed run left behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auroractl import aws
from auroractl.errors import AwsError, InvalidInput, NotFound, Precondition
from auroractl.ops.restore_test.common import connection_kwargs, recorded, run_hook
from auroractl.ops.restore_test.model import (
    AfterRestore,
    Leftover,
    RestoreTestConfig,
    RestoreTestReport,
    Started,
    begin,
    parse_expiry,
    utcnow,
    verdict,
)
from auroractl.ops.restore_test.verify import Check, collect
from auroractl.plan import AwsAction, AwsCall

if TYPE_CHECKING:
    import psycopg

    from auroractl.config import Target

PREFIX = "auroractl-restore-test-"
TAG = "auroractl:restore-test"
TAG_EXPIRES = "auroractl:expires-at"
TAG_SOURCE = "auroractl:source-cluster"
# Copies made before the feature had one name; `cleanup` still recognises them.
LEGACY_PREFIXES = ("auroractl-drill-",)
LEGACY_TAGS = ("auroractl:drill",)
TEARDOWN_ATTEMPTS = 240

Apply = Callable[[AwsAction], object]


def execute(action: AwsAction) -> None:
    """Run an action's calls in order: the default for callers without a runner."""
    for call in action.calls:
        call.invoke()


def restore_test_identifier(cluster_id: str, when: dt.datetime) -> str:
    """auroractl-restore-test-<cluster>-<ts>, within RDS's 63 characters."""
    suffix = f"-{when:%Y%m%d%H%M%S}"
    return (PREFIX + cluster_id)[: 60 - len(suffix)].rstrip("-") + suffix


def parse_time(value: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--pitr {value!r} is not 'latest' or an ISO timestamp") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Source:
    """What the restore starts from: the read step's result."""

    cluster: dict[str, Any] = field(repr=False)  # describe_db_clusters of the source
    description: str  # snapshot <id> | pitr <time> | pitr latest
    restore_from: dict[str, Any]  # SnapshotIdentifier / RestoreToTime / UseLatest...
    restore_point: dt.datetime

    @property
    def engine(self) -> str:
        return self.cluster.get("Engine", "aurora-postgresql")


def latest_snapshot(rds: Any, cluster_id: str) -> dict[str, Any]:
    snaps = [
        s
        for s in aws.cluster_snapshots(rds, cluster_id)
        if s.get("Status") == "available" and s.get("SnapshotCreateTime")
    ]
    if not snaps:
        raise Precondition(f"cluster {cluster_id} has no available snapshot to restore")
    return max(snaps, key=lambda s: s["SnapshotCreateTime"])


def read_source(rds: Any, cluster_id: str, snapshot: str | None, pitr: str | None) -> Source:
    """The source cluster and the snapshot or point in time to restore."""
    cluster = aws.describe_cluster(rds, cluster_id)
    if pitr is not None:
        latest = cluster.get("LatestRestorableTime") or utcnow()
        earliest = cluster.get("EarliestRestorableTime")
        if pitr == "latest":
            return Source(cluster, "pitr latest", {"UseLatestRestorableTime": True}, latest)
        when = parse_time(pitr)
        if (earliest and when < earliest) or when > latest:
            raise InvalidInput(
                f"--pitr {pitr} is outside the restorable window "
                f"{earliest.isoformat() if earliest else '?'} .. {latest.isoformat()}"
            )
        return Source(cluster, f"pitr {when.isoformat()}", {"RestoreToTime": when}, when)
    snap = _snapshot(rds, snapshot) if snapshot else latest_snapshot(rds, cluster_id)
    ident = snap["DBClusterSnapshotIdentifier"]
    return Source(
        cluster, f"snapshot {ident}", {"SnapshotIdentifier": ident}, snap["SnapshotCreateTime"]
    )


def _snapshot(rds: Any, snapshot: str) -> dict[str, Any]:
    try:
        snap = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot)[
            "DBClusterSnapshots"
        ][0]
    except Exception as exc:
        raise aws.aws_error(exc, f"snapshot {snapshot}") from None
    if snap.get("Status") != "available":
        raise Precondition(f"snapshot {snapshot} is {snap.get('Status')}, not available")
    return snap


def restore_kwargs(
    cluster: dict[str, Any], cfg: RestoreTestConfig, copy_id: str, expires: dt.datetime
) -> dict[str, Any]:
    """Shape of the copy: serverless v2, the source's network and parameters."""
    kwargs: dict[str, Any] = {
        "DBClusterIdentifier": copy_id,
        "ServerlessV2ScalingConfiguration": {
            "MinCapacity": cfg.min_acu,
            "MaxCapacity": cfg.max_acu,
        },
        "Tags": [
            {"Key": TAG, "Value": copy_id},
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


@dataclass
class _Run:
    """One Aurora run; ``created`` and ``instance`` record what exists to tear down."""

    conn: psycopg.Connection
    rds: Any
    region: str | None
    cfg: RestoreTestConfig
    started: Started
    keep: bool
    progress: Callable[[str], None]
    apply: Apply
    created: bool = False
    instance: str | None = None
    after: AfterRestore | None = None

    @property
    def copy_id(self) -> str:
        return self.started.restored

    @property
    def deadline(self) -> float:
        return self.started.started + self.cfg.timeout.total_seconds()


def run_aurora(
    conn: psycopg.Connection,
    target: Target,
    cfg: RestoreTestConfig,
    *,
    snapshot: str | None = None,
    pitr: str | None = None,
    keep: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
    rds: Any = None,
    apply: Apply = execute,
    after_restore: AfterRestore | None = None,
) -> RestoreTestReport:
    """Restore, verify against the source connection ``conn`` (then ``after_restore`` on
    the copy: the erasure log re-applied), tear down (``apply`` runs the teardown action:
    the runner, for a ledger row), record."""
    requested_at = utcnow()
    cluster_id = target.cluster_id or ""
    started = begin(
        "aurora", cluster_id, restore_test_identifier(cluster_id, requested_at), requested_at
    )
    rds = rds or aws.for_target(target, "rds")
    region = rds.meta.region_name
    run = _Run(conn, rds, region, cfg, started, keep, progress, apply, after=after_restore)

    def body() -> RestoreTestReport:
        return _aurora(run, read_source(rds, cluster_id, snapshot, pitr))

    return recorded(conn, started, body)


def _aurora(run: _Run, source: Source) -> RestoreTestReport:
    """The act step: restore, verify, and tear down whatever was created."""
    notes: tuple[str, ...] = ()
    try:
        report = _restore_and_verify(run, source)
    finally:
        if run.created and not run.keep:
            run.progress(f"tearing down {run.copy_id}")
            notes = tear_down(run)
    if notes:
        return replace(report, notes=report.notes + notes)
    return replace(report, torn_down=not run.keep)


def _restore_and_verify(run: _Run, source: Source) -> RestoreTestReport:
    run.progress(f"restoring {source.description} into {run.copy_id}")
    t = time.monotonic()
    _create_copy(run, source)
    timings: dict[str, float] = {}
    cfg, deadline = run.cfg, run.deadline
    run.progress(f"waiting for cluster {run.copy_id}")
    _wait(
        run.rds, "db_cluster_available", deadline, cfg.waiter_delay, DBClusterIdentifier=run.copy_id
    )
    run.progress(f"waiting for instance {run.instance}")
    _wait(
        run.rds,
        "db_instance_available",
        deadline,
        cfg.waiter_delay,
        DBInstanceIdentifier=run.instance,
    )
    restored = aws.describe_cluster(run.rds, run.copy_id)
    run.progress("waiting for a connection to the restored cluster")
    copy = _connect_copy(run.conn, restored, cfg, deadline)
    timings["restore_s"] = time.monotonic() - t
    run.progress("verifying the restored copy")
    t = time.monotonic()
    with copy:
        run_hook(copy)
        copy_facts = collect(copy, cfg.spec, source.restore_point)
        if run.after is not None:
            run.progress("re-applying the erasure log on the copy")
        care = run.after(copy) if run.after is not None else None
    source_facts = collect(run.conn, cfg.spec, source.restore_point)
    timings["verify_s"] = time.monotonic() - t
    return verdict(
        run.started,
        restore_from=source.description,
        restore_point=source.restore_point,
        source_facts=source_facts,
        copy_facts=copy_facts,
        spec=cfg.spec,
        timings=timings,
        extra_checks=(
            Check("restore: cluster + instance", "pass", f"{run.copy_id} available, connected"),
        ),
        kept=run.keep,
        aftercare=care,
    )


def _create_copy(run: _Run, source: Source) -> None:
    """restore_db_cluster_* then the db.serverless writer; ``run`` notes each success
    at once, so that a failure in between still tears down what exists."""
    kwargs = restore_kwargs(
        source.cluster, run.cfg, run.copy_id, run.started.requested_at + run.cfg.ttl
    )
    cluster = source.cluster
    try:
        if "SnapshotIdentifier" in source.restore_from:
            version = {k: cluster[k] for k in ("EngineVersion",) if k in cluster}
            run.rds.restore_db_cluster_from_snapshot(
                Engine=source.engine, **version, **source.restore_from, **kwargs
            )
        else:
            run.rds.restore_db_cluster_to_point_in_time(
                SourceDBClusterIdentifier=cluster["DBClusterIdentifier"],
                RestoreType="full-copy",
                **source.restore_from,
                **kwargs,
            )
        run.created = True
        instance = f"{run.copy_id}-w"
        run.progress(f"creating the db.serverless writer {instance}")
        run.rds.create_db_instance(
            DBInstanceIdentifier=instance,
            DBClusterIdentifier=run.copy_id,
            Engine=source.engine,
            DBInstanceClass="db.serverless",
            Tags=kwargs["Tags"],
        )
        run.instance = instance
    except Exception as exc:
        raise aws.aws_error(exc, f"restore into {run.copy_id}") from None


def _connect_copy(
    conn: psycopg.Connection, restored: dict[str, Any], cfg: RestoreTestConfig, deadline: float
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


# -- teardown and cleanup ------------------------------------------------------------


def members(rds: Any, cluster_id: str) -> set[str]:
    """The cluster's instances (none if it cannot be described: it may be gone)."""
    try:
        found = aws.describe_cluster(rds, cluster_id).get("DBClusterMembers", [])
    except (AwsError, NotFound):
        return set()
    return {m["DBInstanceIdentifier"] for m in found}


def teardown_action(
    rds: Any,
    cluster_id: str,
    instances: set[str] | tuple[str, ...],
    delay: int,
    region: str | None,
    command: str = "restore-test",
) -> AwsAction:
    """Delete the instances, then (once they are gone) the cluster, no final snapshot."""
    return AwsAction(
        command,
        f"tear down restore-test copy {cluster_id}",
        region,
        deletion_calls(rds, cluster_id, tuple(sorted(instances)), delay),
    )


def deletion_calls(
    rds: Any, cluster_id: str, instances: tuple[str, ...], delay: int
) -> tuple[AwsCall, ...]:
    waiter = {"Delay": delay, "MaxAttempts": TEARDOWN_ATTEMPTS}

    def delete_instance(inst: str) -> None:
        with contextlib.suppress(rds.exceptions.DBInstanceNotFoundFault):  # gone already
            rds.delete_db_instance(DBInstanceIdentifier=inst, SkipFinalSnapshot=True)

    def delete_cluster() -> None:
        # The instances' deletions run in parallel; the cluster goes once they are gone.
        for inst in instances:
            rds.get_waiter("db_instance_deleted").wait(
                DBInstanceIdentifier=inst, WaiterConfig=waiter
            )
        rds.delete_db_cluster(DBClusterIdentifier=cluster_id, SkipFinalSnapshot=True)
        rds.get_waiter("db_cluster_deleted").wait(
            DBClusterIdentifier=cluster_id, WaiterConfig=waiter
        )

    calls = [
        AwsCall(
            "rds",
            "delete_db_instance",
            {"DBInstanceIdentifier": inst, "SkipFinalSnapshot": True},
            inst,
            invoke=lambda inst=inst: delete_instance(inst),
        )
        for inst in instances
    ]
    calls.append(
        AwsCall(
            "rds",
            "delete_db_cluster",
            {"DBClusterIdentifier": cluster_id, "SkipFinalSnapshot": True},
            cluster_id,
            invoke=delete_cluster,
        )
    )
    return tuple(calls)


def tear_down(run: _Run) -> tuple[str, ...]:
    """Delete the copy through ``run.apply``; a failure becomes a note (the verdict
    stands, and `cleanup` deletes the copy once it expires)."""
    from botocore.exceptions import BotoCoreError, ClientError

    instances = members(run.rds, run.copy_id) | ({run.instance} if run.instance else set())
    action = teardown_action(run.rds, run.copy_id, instances, run.cfg.waiter_delay, run.region)
    try:
        run.apply(action)
    except (ClientError, BotoCoreError) as exc:
        return (
            f"teardown of {run.copy_id} failed ({' '.join(str(exc).split())[:200]}); "
            "`auroractl restore-test cleanup` deletes it after its expiry",
        )
    return ()


def is_restore_test_copy(ident: str, tags: dict[str, str]) -> bool:
    """Named and tagged by auroractl, today or under the earlier names."""
    prefixed = ident.startswith((PREFIX, *LEGACY_PREFIXES))
    return prefixed and any(t in tags for t in (TAG, *LEGACY_TAGS))


def leftovers(rds: Any, now: dt.datetime | None = None) -> list[Leftover]:
    """Restore-test clusters and whether their ``auroractl:expires-at`` has passed."""
    now = now or utcnow()
    found = []
    for page in rds.get_paginator("describe_db_clusters").paginate():
        for c in page["DBClusters"]:
            ident = c["DBClusterIdentifier"]
            if not ident.startswith((PREFIX, *LEGACY_PREFIXES)):
                continue
            tags = c.get("TagList")
            if tags is None:
                tags = rds.list_tags_for_resource(ResourceName=c["DBClusterArn"])["TagList"]
            tagmap = {t["Key"]: t["Value"] for t in tags}
            if not is_restore_test_copy(ident, tagmap):
                continue
            expires = parse_expiry(f"expires-at={tagmap.get(TAG_EXPIRES, '')}")
            expired = expires is not None and expires <= now
            if expired:
                action = "would delete"
            else:
                action = "kept (not expired)" if expires else "kept (no expires-at tag)"
            names = (m["DBInstanceIdentifier"] for m in c.get("DBClusterMembers", ()))
            instances = tuple(sorted(names))
            found.append(Leftover("cluster", ident, expires, expired, action, instances))
    return found


def plan_cleanup(rds: Any, found: list[Leftover], delay: int, region: str | None) -> AwsAction:
    """One action deleting every expired copy (instances first, then the cluster)."""
    expired = [f for f in found if f.expired]
    kept = [f for f in found if not f.expired]
    calls = tuple(c for f in expired for c in deletion_calls(rds, f.name, f.instances, delay))
    if expired:
        summary = f"delete {len(expired)} expired restore-test cluster(s)"
    else:
        summary = "no expired restore-test copies" + (f" ({len(kept)} kept)" if kept else "")
    notes = tuple(f"{f.name}: {f.action}" for f in kept)
    return AwsAction("restore-test cleanup", summary, region, calls, notes)
